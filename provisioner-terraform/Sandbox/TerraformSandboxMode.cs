namespace Provisioning.Terraform.Sandbox;

/// <summary>Whether Terraform runs in a sandbox that hides the daemon's host from templates (<c>docs/decisions/0005</c>, <c>0014</c>).</summary>
public enum TerraformSandboxMode
{
    /// <summary>Terraform runs as the daemon's user with the daemon's view of the machine (an external daemon on its own machine).</summary>
    None,

    /// <summary>Every Terraform command runs in a bubblewrap sandbox; the provisioner refuses to start when bubblewrap does not work.</summary>
    Bubblewrap,

    /// <summary>
    /// Every Terraform command runs in a fresh container of the job image (<c>docs/decisions/0014</c>); the provisioner
    /// refuses to start when no Docker engine answers or the image is missing.
    /// </summary>
    Docker,

    /// <summary>
    /// A job container when a Docker engine answers and has the job image, else bubblewrap when its self-test passes,
    /// else no sandbox, with a warning naming the risk and the fix.
    /// </summary>
    Auto,
}
