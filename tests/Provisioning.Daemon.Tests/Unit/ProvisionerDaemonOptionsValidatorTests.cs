using Microsoft.Extensions.Options;

namespace Provisioning.Daemon.Tests.Unit;

public sealed class ProvisionerDaemonOptionsValidatorTests
{
    [Fact]
    public void Validate_UrlAndPskWithDefaults_Succeeds()
    {
        var options = Valid();

        var result = new ProvisionerDaemonOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(1, options.Slots);
        Assert.Equal(Environment.MachineName, options.Name);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.LogFlushInterval);
        Assert.Equal(2000, options.LogFlushLines);
        Assert.Null(options.MetricsAddress);
        Assert.EndsWith(Path.Combine(".cache", "provisioning"), options.CacheDirectory, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyAndPsk_FailsSayingToUseOne()
    {
        var options = Valid();
        options.ProvisionerKey = "key";

        AssertFails(options, "use one of them");
    }

    [Fact]
    public void Validate_NoCredentials_FailsNamingBothFlags()
    {
        var options = Valid();
        options.PreSharedKey = null;

        AssertFails(options, "--key", "--psk");
    }

    [Fact]
    public void Validate_TagWithProvisionerKey_IsRefused()
    {
        var options = Valid();
        options.PreSharedKey = null;
        options.ProvisionerKey = "key";
        options.Tags["region"] = "eu";

        AssertFails(options, "--tag cannot be used with a provisioner key");
    }

    [Fact]
    public void Validate_TagWithPsk_Succeeds()
    {
        var options = Valid();
        options.Tags["region"] = "eu";

        Assert.True(new ProvisionerDaemonOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    [InlineData(-1)]
    public void Validate_SlotsOutOfRange_FailsWithTheRange(int slots)
    {
        var options = Valid();
        options.Slots = slots;

        AssertFails(options, "--slots", "from 1 to 64");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void Validate_SlotsAtTheBounds_Succeeds(int slots)
    {
        var options = Valid();
        options.Slots = slots;

        Assert.True(new ProvisionerDaemonOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_MissingUrl_FailsWithAnExample()
    {
        var options = Valid();
        options.CoordinatorUrl = null;

        AssertFails(options, "--url");
    }

    [Fact]
    public void Validate_NonHttpUrl_Fails()
    {
        var options = Valid();
        options.CoordinatorUrl = new Uri("ftp://coordinator");

        AssertFails(options, "http://");
    }

    [Fact]
    public void Validate_RelativeCacheDirectory_Fails()
    {
        var options = Valid();
        options.CacheDirectory = "cache";

        AssertFails(options, "--cache-dir", "relative");
    }

    [Theory]
    [InlineData("2112")]
    [InlineData("example.com:2112")]
    [InlineData("127.0.0.1:99999")]
    public void Validate_MalformedMetricsAddress_Fails(string address)
    {
        var options = Valid();
        options.MetricsAddress = address;

        AssertFails(options, "--metrics-address");
    }

    [Theory]
    [InlineData("127.0.0.1:0")]
    [InlineData("0.0.0.0:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("localhost:8080")]
    [InlineData("*:8080")]
    public void Validate_WellFormedHealthAddress_Succeeds(string address)
    {
        var options = Valid();
        options.HealthAddress = address;

        Assert.True(new ProvisionerDaemonOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_BackoffCapBelowInitialDelay_Fails()
    {
        var options = Valid();
        options.ReconnectInitialDelay = TimeSpan.FromSeconds(10);
        options.ReconnectMaxDelay = TimeSpan.FromSeconds(1);

        AssertFails(options, "ReconnectMaxDelay");
    }

    [Fact]
    public void Validate_OfflineBufferSmallerThanABatch_Fails()
    {
        var options = Valid();
        options.OfflineLogBufferLines = 10;

        AssertFails(options, "OfflineLogBufferLines");
    }

    [Fact]
    public void ThrowIfInvalid_SeveralProblems_ListsEveryOne()
    {
        var options = Valid();
        options.Slots = 0;
        options.CoordinatorUrl = null;

        var exception = Assert.Throws<OptionsValidationException>(() => ProvisionerDaemonOptionsValidator.ThrowIfInvalid(options));

        Assert.Equal(2, exception.Failures.Count());
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsBeforeAnythingRuns()
    {
        var options = Valid();
        options.Slots = 100;

        Assert.Throws<OptionsValidationException>(() => new ProvisionerDaemon(options, new UnusableProvisioner(), Microsoft.Extensions.Logging.Abstractions.NullLogger<ProvisionerDaemon>.Instance));
    }

    private static ProvisionerDaemonOptions Valid() => new()
    {
        CoordinatorUrl = new Uri("http://127.0.0.1:8081"),
        PreSharedKey = "psk",
    };

    private static void AssertFails(ProvisionerDaemonOptions options, params string[] fragments)
    {
        var result = new ProvisionerDaemonOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    private sealed class UnusableProvisioner : IDaemonProvisioner
    {
        public string Type => "none";

        public Task<string> CheckAsync(CancellationToken cancellationToken = default) => throw new InvalidOperationException("never checked");

        public Sdk.Provisioners.IProvisionerConnection Connect(string workDirectory) => throw new InvalidOperationException("never connected");
    }
}
