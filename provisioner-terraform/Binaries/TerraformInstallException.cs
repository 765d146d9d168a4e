namespace Provisioning.Terraform.Binaries;

/// <summary>A Terraform release could not be downloaded, verified or unpacked.</summary>
public sealed class TerraformInstallException : Exception
{
    public TerraformInstallException()
    {
    }

    public TerraformInstallException(string message)
        : base(message)
    {
    }

    public TerraformInstallException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
