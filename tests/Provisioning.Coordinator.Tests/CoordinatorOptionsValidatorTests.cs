namespace Provisioning.Coordinator.Tests;

public sealed class CoordinatorOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var result = new CoordinatorOptionsValidator().Validate(null, new CoordinatorOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_DefaultValues_AreTheDocumentedOnes()
    {
        var options = new CoordinatorOptions();

        Assert.Equal(TimeSpan.FromMinutes(5), options.JobHangTimeout);
        Assert.Equal(TimeSpan.FromMinutes(30), options.JobPendingTimeout);
        Assert.Equal(64L * 1024 * 1024, options.MaxUploadBytes);
        if (Environment.GetEnvironmentVariable("PROVISIONING_HOME") is { Length: > 0 } home)
        {
            Assert.Equal(home, options.HomeDirectory);
        }
        else
        {
            Assert.EndsWith(Path.Combine(".config", "provisioning"), options.HomeDirectory, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_BadValues_NameEverySetting()
    {
        var options = new CoordinatorOptions
        {
            PostgresUrl = "postgres://",
            JobHangTimeout = TimeSpan.Zero,
            JobPendingTimeout = TimeSpan.FromSeconds(-1),
            DaemonRetention = TimeSpan.Zero,
            MaxJobLogBytes = 10,
            MaxUploadBytes = 10,
            ProvisionerPsk = "short",
            HttpAddress = "not a url",
            GrpcAddress = "ftp://127.0.0.1:21",
        };

        var result = new CoordinatorOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        foreach (var setting in new[] { "PostgresUrl", "JobHangTimeout", "JobPendingTimeout", "DaemonRetention", "MaxJobLogBytes", "MaxUploadBytes", "ProvisionerPsk", "HttpAddress", "GrpcAddress" })
        {
            Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_CleartextGrpcOnTheRestPort_FailsNamingGrpcAddress()
    {
        var options = new CoordinatorOptions { HttpAddress = "http://127.0.0.1:3000", GrpcAddress = "http://127.0.0.1:3000" };

        var result = new CoordinatorOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, failure => failure.StartsWith("GrpcAddress is the same as HttpAddress", StringComparison.Ordinal));
    }
}
