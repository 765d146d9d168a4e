namespace Provisioning.Terraform.Binaries;

/// <summary>No usable Terraform binary: missing, not runnable, or of an unsupported version.</summary>
public sealed class TerraformBinaryException : Exception
{
    public TerraformBinaryException()
    {
    }

    public TerraformBinaryException(string message)
        : base(message)
    {
    }

    public TerraformBinaryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
