namespace Provisioning.Terraform.Sandbox;

/// <summary>Checks whether Terraform can run sandboxed as <see cref="TerraformOptions.Sandbox"/> asks, e.g. for a server's start banner and readiness.</summary>
public static class TerraformSandbox
{
    /// <summary>The label every job container carries (isolation docker); its value is the job's work directory.</summary>
    public const string JobContainerLabel = "provisioning.terraform-job";

    /// <summary>
    /// Runs the sandbox's self-test (unless the mode is <see cref="TerraformSandboxMode.None"/>) and says whether Terraform
    /// will run isolated. Never throws for a missing or broken sandbox: the status says why and what to do.
    /// </summary>
    public static async Task<TerraformSandboxStatus> CheckAsync(TerraformOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (await ResolveAsync(options, cancellationToken).ConfigureAwait(false)).Status;
    }

    /// <summary>
    /// Picks the sandbox. Auto prefers a job container over bubblewrap: it shows templates the image's filesystem rather
    /// than the host's system directories, and it limits memory and CPU (decision 0014 says why and what it costs).
    /// </summary>
    internal static async Task<ResolvedSandbox> ResolveAsync(TerraformOptions options, CancellationToken cancellationToken)
    {
        var mode = options.Sandbox;
        if (mode == TerraformSandboxMode.None)
        {
            return new ResolvedSandbox(null, null, new TerraformSandboxStatus(mode, false,
                "Terraform runs without isolation (none): templates can read everything this process's user can."));
        }

        var dockerReason = "";
        if (mode is TerraformSandboxMode.Docker or TerraformSandboxMode.Auto)
        {
            var (docker, reason) = await DockerJobSandbox.ProbeAsync(options, cancellationToken).ConfigureAwait(false);
            if (docker is not null)
            {
                return new ResolvedSandbox(null, docker, new TerraformSandboxStatus(mode, true,
                    $"Terraform runs in a {docker} per command: templates see only their work directory, the provider cache and the image's filesystem.") { InEffect = "docker" });
            }

            if (mode == TerraformSandboxMode.Docker)
            {
                return new ResolvedSandbox(null, null, new TerraformSandboxStatus(mode, false,
                    $"Terraform cannot run: job containers are required (isolation: docker) but {reason}. " +
                    "Start a Docker engine and build the job image, or choose the isolation bubblewrap, auto or none."));
            }

            dockerReason = $"no job container ({reason}) and ";
        }

        var (sandbox, bubblewrapReason) = await BubblewrapSandbox.ProbeAsync(options.BubblewrapPath, cancellationToken).ConfigureAwait(false);
        if (sandbox is not null)
        {
            return new ResolvedSandbox(sandbox, null, new TerraformSandboxStatus(mode, true,
                $"Terraform runs in a {sandbox} sandbox: templates see only their work directory, the provider cache and read-only system directories.") { InEffect = "bubblewrap" });
        }

        return mode == TerraformSandboxMode.Bubblewrap
            ? new ResolvedSandbox(null, null, new TerraformSandboxStatus(mode, false,
                $"Terraform cannot run: the bubblewrap sandbox is required (sandbox: bubblewrap) but {bubblewrapReason}. " +
                "Install bubblewrap, or choose the sandbox mode auto (warn and run unsandboxed) or none."))
            : new ResolvedSandbox(null, null, new TerraformSandboxStatus(mode, false,
                $"Terraform runs WITHOUT a sandbox because {dockerReason}{bubblewrapReason}. Templates can then read everything this process's user can " +
                "(on a server: the admin token, the database password and data, other jobs' files, the server's environment). " +
                "Fix: install bubblewrap, or run builds on an external daemon on its own machine and key (provisioning provisioner start) " +
                "and start the server with --provisioner-daemons 0."));
    }
}
