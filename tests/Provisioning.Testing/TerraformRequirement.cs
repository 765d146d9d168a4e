using System.Diagnostics;

using Xunit;

namespace Provisioning.Testing;

/// <summary>
/// Real Terraform is required by the tests that run it. Missing Terraform fails those tests with an
/// install hint, unless PROVISIONING_SKIP_TERRAFORM=1 says to skip them.
/// </summary>
public static class TerraformRequirement
{
    private static readonly Lazy<string?> Found = new(FindOnPath);

    /// <summary>The terraform executable on PATH; fails or skips the calling test when there is none.</summary>
    public static string Require()
    {
        if (Found.Value is { } path)
        {
            return path;
        }

        if (Environment.GetEnvironmentVariable("PROVISIONING_SKIP_TERRAFORM") == "1")
        {
            Assert.Skip("terraform is not on PATH and PROVISIONING_SKIP_TERRAFORM=1.");
        }

        Assert.Fail("terraform is not on PATH. Install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) or set PROVISIONING_SKIP_TERRAFORM=1 to skip these tests.");
        return "";
    }

    /// <summary>
    /// The sandbox the Terraform and daemon tests run Terraform in: PROVISIONING_TEST_SANDBOX (none, bubblewrap, docker, auto),
    /// default none; CI runs them once more with bubblewrap, so logs, cancellation, timings and state are checked inside it.
    /// </summary>
    public static string SandboxMode => Environment.GetEnvironmentVariable("PROVISIONING_TEST_SANDBOX") is { Length: > 0 } mode ? mode : "none";

    private static string? FindOnPath()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, OperatingSystem.IsWindows() ? "terraform.exe" : "terraform");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Debug.WriteLine("terraform not found on PATH");
        return null;
    }
}
