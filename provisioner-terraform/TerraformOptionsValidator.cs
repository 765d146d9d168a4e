using Microsoft.Extensions.Options;
using Provisioning.Terraform.Binaries;

namespace Provisioning.Terraform;

/// <summary>Checks <see cref="TerraformOptions"/> at start, with messages that say how to fix each problem.</summary>
public sealed class TerraformOptionsValidator : IValidateOptions<TerraformOptions>
{
    public ValidateOptionsResult Validate(string? name, TerraformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public static void ThrowIfInvalid(TerraformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(TerraformOptions.SectionName, typeof(TerraformOptions), failures);
        }
    }

    private static List<string> Check(TerraformOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.CacheDirectory))
        {
            failures.Add("Terraform:CacheDirectory is empty: set it to a writable directory for installed Terraform binaries and the provider cache.");
        }
        else if (!Path.IsPathFullyQualified(options.CacheDirectory))
        {
            failures.Add($"Terraform:CacheDirectory '{options.CacheDirectory}' is relative: give an absolute path, so every run shares the same cache.");
        }

        if (options.InterruptGracePeriod <= TimeSpan.Zero || options.InterruptGracePeriod > TimeSpan.FromHours(1))
        {
            failures.Add($"Terraform:InterruptGracePeriod is {options.InterruptGracePeriod}: give a positive duration of at most one hour (default 00:00:15).");
        }

        if (options.TerraformPath is { } path)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                failures.Add("Terraform:TerraformPath is blank: remove it to use terraform from PATH, or give the executable's path.");
            }
            else if (!File.Exists(path))
            {
                failures.Add($"Terraform:TerraformPath '{path}' does not exist: give the path of a terraform or tofu executable, or remove the setting to use terraform from PATH.");
            }
        }

        if (options.InstallVersion is { } version)
        {
            if (options.TerraformPath is not null)
            {
                failures.Add("Terraform:InstallVersion and Terraform:TerraformPath are both set: choose one (a binary you provide, or a version to install).");
            }

            if (!Version.TryParse(version, out var parsed) || parsed.Build < 0 || parsed.Revision >= 0)
            {
                failures.Add($"Terraform:InstallVersion '{version}' is not a release version: give MAJOR.MINOR.PATCH, e.g. 1.11.4.");
            }
            else if (!TerraformVersionRange.IsSupported(parsed))
            {
                failures.Add($"Terraform:InstallVersion {version} is outside the supported range {TerraformVersionRange.Description}.");
            }
        }

        if (options.ReleaseBaseUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"Terraform:ReleaseBaseUrl '{options.ReleaseBaseUrl}' is not an absolute http(s) URL: use e.g. https://releases.hashicorp.com or your mirror's URL.");
        }

        if (options.SigningKeyFile is { } signingKey && !File.Exists(signingKey))
        {
            failures.Add($"Terraform:SigningKeyFile (--terraform-signing-key-file) '{signingKey}' does not exist: give the OpenPGP public key your mirror signs releases with, or remove the setting to trust HashiCorp's release key.");
        }

        if (options.CliConfigFile is { } cliConfig && !File.Exists(cliConfig))
        {
            failures.Add($"Terraform:CliConfigFile '{cliConfig}' does not exist: give the path of a .terraformrc file, or remove the setting.");
        }

        if (options.ProviderMirrorDirectory is { } mirror)
        {
            if (!Directory.Exists(mirror))
            {
                failures.Add($"Terraform:ProviderMirrorDirectory '{mirror}' does not exist: create it with 'terraform providers mirror {mirror}' or remove the setting.");
            }

            if (options.CliConfigFile is not null)
            {
                failures.Add("Terraform:ProviderMirrorDirectory and Terraform:CliConfigFile are both set: put the mirror in your CLI configuration file's provider_installation block instead.");
            }
        }

        if (!Enum.IsDefined(options.Sandbox))
        {
            failures.Add($"Terraform:Sandbox '{options.Sandbox}' is not a sandbox mode: use none, bubblewrap, docker or auto.");
        }

        if (string.IsNullOrWhiteSpace(options.JobImage))
        {
            failures.Add("Terraform:JobImage (--job-image) is empty: name the job image, e.g. provisioning/terraform-job:latest (scripts/docker-job-image.sh builds it).");
        }

        if (options.JobMemoryBytes is { } memory && memory < 6 * 1024 * 1024)
        {
            // The engine refuses less than 6 MiB; Terraform itself needs far more.
            failures.Add($"Terraform:JobMemoryBytes (--job-memory) is {memory} bytes: give at least 6 MiB (Terraform needs a few hundred), e.g. 512m or 2g.");
        }

        if (options.JobCpus is { } cpus && (!double.IsFinite(cpus) || cpus <= 0 || cpus > Environment.ProcessorCount))
        {
            failures.Add($"Terraform:JobCpus (--job-cpus) is {cpus}: give a number of CPUs above 0 and at most this machine's {Environment.ProcessorCount}, e.g. 1 or 0.5.");
        }

        if (options.DockerHost is { } dockerHost && !Uri.TryCreate(dockerHost, UriKind.Absolute, out _))
        {
            failures.Add($"Terraform:DockerHost '{dockerHost}' is not a URL: use e.g. unix:///var/run/docker.sock or tcp://host:2375, or remove it to use DOCKER_HOST.");
        }

        if (options.BubblewrapPath is { } bwrap && (string.IsNullOrWhiteSpace(bwrap) || !Path.IsPathFullyQualified(bwrap)))
        {
            // A missing file is not refused here: the sandbox check reports it (auto mode then warns and runs unsandboxed).
            failures.Add($"Terraform:BubblewrapPath '{bwrap}' is not an absolute path: give the bwrap executable's full path, or remove the setting to use bwrap from PATH.");
        }

        foreach (var name in options.StripEnvironmentVariables)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Contains('=', StringComparison.Ordinal) || name.IndexOf('*', StringComparison.Ordinal) is var star && star >= 0 && star != name.Length - 1)
            {
                failures.Add($"Terraform:StripEnvironmentVariables has '{name}': give variable names, optionally ending with * to match a prefix.");
            }
        }

        return failures;
    }
}
