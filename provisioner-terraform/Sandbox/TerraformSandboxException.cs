namespace Provisioning.Terraform.Sandbox;

/// <summary>The sandbox was required (<see cref="TerraformSandboxMode.Bubblewrap"/>) but does not work on this machine.</summary>
public sealed class TerraformSandboxException : Exception
{
    public TerraformSandboxException()
    {
    }

    public TerraformSandboxException(string message)
        : base(message)
    {
    }

    public TerraformSandboxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
