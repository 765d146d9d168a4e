namespace Provisioning.Terraform.Sandbox;

/// <summary>Checks whether Terraform can run sandboxed as <see cref="TerraformOptions.Sandbox"/> asks, e.g. for a server's start banner and readiness.</summary>
public static class TerraformSandbox
{
    /// <summary>
    /// Runs bubblewrap's self-test (unless the mode is <see cref="TerraformSandboxMode.None"/>) and says whether Terraform
    /// will run isolated. Never throws for a missing or broken bubblewrap: the status says why and what to do.
    /// </summary>
    public static async Task<TerraformSandboxStatus> CheckAsync(TerraformOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (await ResolveAsync(options, cancellationToken).ConfigureAwait(false)).Status;
    }

    internal static async Task<(BubblewrapSandbox? Sandbox, TerraformSandboxStatus Status)> ResolveAsync(TerraformOptions options, CancellationToken cancellationToken)
    {
        if (options.Sandbox == TerraformSandboxMode.None)
        {
            return (null, new TerraformSandboxStatus(options.Sandbox, false,
                "Terraform runs without a sandbox (sandbox: none): templates can read everything this process's user can."));
        }

        var (sandbox, reason) = await BubblewrapSandbox.ProbeAsync(options.BubblewrapPath, cancellationToken).ConfigureAwait(false);
        if (sandbox is not null)
        {
            return (sandbox, new TerraformSandboxStatus(options.Sandbox, true,
                $"Terraform runs in a {sandbox} sandbox: templates see only their work directory, the provider cache and read-only system directories."));
        }

        return options.Sandbox == TerraformSandboxMode.Bubblewrap
            ? (null, new TerraformSandboxStatus(options.Sandbox, false,
                $"Terraform cannot run: the bubblewrap sandbox is required (sandbox: bubblewrap) but {reason}. " +
                "Install bubblewrap, or choose the sandbox mode auto (warn and run unsandboxed) or none."))
            : (null, new TerraformSandboxStatus(options.Sandbox, false,
                $"Terraform runs WITHOUT a sandbox because {reason}. Templates can then read everything this process's user can " +
                "(on a server: the admin token, the database password and data, other jobs' files, the server's environment). " +
                "Fix: install bubblewrap, or run builds on an external daemon on its own machine and key (provisioning provisioner start) " +
                "and start the server with --provisioner-daemons 0."));
    }
}
