using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Terraform.Binaries;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests;

/// <summary>
/// One provisioner over the real terraform on PATH, with one cache directory shared by every test in
/// the collection, so the plugin cache and the resolved binary are reused.
/// </summary>
public sealed class TerraformFixture : IDisposable
{
    public TerraformFixture()
    {
        CacheDirectory = Directory.CreateTempSubdirectory("provisioning-tf-cache-").FullName;
    }

    public string CacheDirectory { get; }

    public TerraformOptions CreateOptions(TimeSpan? gracePeriod = null)
    {
        var options = new TerraformOptions
        {
            TerraformPath = TerraformRequirement.Require(),
            CacheDirectory = CacheDirectory,
            InterruptGracePeriod = gracePeriod ?? TimeSpan.FromSeconds(15),
            Sandbox = Enum.Parse<Provisioning.Terraform.Sandbox.TerraformSandboxMode>(TerraformRequirement.SandboxMode, ignoreCase: true),
        };
        options.StripEnvironmentVariables.Add("TERRAFORM_TESTS_DAEMON_SECRET");
        return options;
    }

    public TerraformProvisioner CreateProvisioner(TerraformOptions? options = null)
    {
        options ??= CreateOptions();
        var installer = new TerraformInstaller(options, new HttpClient(), NullLogger<TerraformInstaller>.Instance);
        var resolver = new TerraformBinaryResolver(options, installer, NullLogger<TerraformBinaryResolver>.Instance);
        return new TerraformProvisioner(options, resolver, NullLogger<TerraformProvisioner>.Instance);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(CacheDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A test's leftover process may still hold a file; the temp folder is cleaned by the OS.
        }
    }
}
