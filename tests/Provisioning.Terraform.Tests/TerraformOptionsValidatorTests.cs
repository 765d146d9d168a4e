using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using Provisioning.Terraform.Binaries;

namespace Provisioning.Terraform.Tests;

public sealed class TerraformOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var result = new TerraformOptionsValidator().Validate(null, new TerraformOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_BadSettings_ListsEveryProblemWithAFix()
    {
        var options = new TerraformOptions
        {
            CacheDirectory = "relative/cache",
            InterruptGracePeriod = TimeSpan.Zero,
            TerraformPath = "/nonexistent/terraform",
            InstallVersion = "1.11",
            ReleaseBaseUrl = new Uri("ftp://mirror.example/"),
            CliConfigFile = "/nonexistent/.terraformrc",
            ProviderMirrorDirectory = "/nonexistent/mirror",
        };
        options.StripEnvironmentVariables.Add("BAD*NAME");

        var result = new TerraformOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("CacheDirectory", StringComparison.Ordinal) && f.Contains("absolute", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("InterruptGracePeriod", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("TerraformPath '/nonexistent/terraform' does not exist", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("both set: choose one", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("InstallVersion '1.11'", StringComparison.Ordinal) && f.Contains("1.11.4", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("ReleaseBaseUrl", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("CliConfigFile", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("ProviderMirrorDirectory", StringComparison.Ordinal) && f.Contains("providers mirror", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BAD*NAME", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_InstallVersionOutsideRange_IsRefused()
    {
        var options = new TerraformOptions { InstallVersion = "1.4.6" };

        var result = new TerraformOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.Contains(">= 1.5.0, < 2.0.0", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SandboxSettingsInvalid_AreRefusedButAMissingBubblewrapIsNot()
    {
        var relative = new TerraformOptions { BubblewrapPath = "bin/bwrap", Sandbox = (Provisioning.Terraform.Sandbox.TerraformSandboxMode)42 };
        var missing = new TerraformOptions { BubblewrapPath = "/nonexistent/bwrap", Sandbox = Provisioning.Terraform.Sandbox.TerraformSandboxMode.Auto };

        var refused = new TerraformOptionsValidator().Validate(null, relative);
        var accepted = new TerraformOptionsValidator().Validate(null, missing);

        Assert.Contains(refused.Failures!, f => f.Contains("BubblewrapPath 'bin/bwrap' is not an absolute path", StringComparison.Ordinal));
        Assert.Contains(refused.Failures!, f => f.Contains("Sandbox '42' is not a sandbox mode", StringComparison.Ordinal));
        // A missing bubblewrap is the sandbox check's to report: auto then warns and runs, which a start failure would prevent.
        Assert.True(accepted.Succeeded, string.Join(" ", accepted.Failures ?? []));
    }

    [Fact]
    public void Provisioner_InvalidOptions_FailsAtConstruction()
    {
        var options = new TerraformOptions { CacheDirectory = "" };

        var installer = new TerraformInstaller(options, new HttpClient(), NullLogger<TerraformInstaller>.Instance);
        var resolver = new TerraformBinaryResolver(options, installer, NullLogger<TerraformBinaryResolver>.Instance);

        var exception = Assert.Throws<OptionsValidationException>(
            () => new TerraformProvisioner(options, resolver, NullLogger<TerraformProvisioner>.Instance));

        Assert.Contains("CacheDirectory is empty", exception.Message, StringComparison.Ordinal);
    }
}
