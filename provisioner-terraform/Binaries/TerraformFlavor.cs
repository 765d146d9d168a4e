namespace Provisioning.Terraform.Binaries;

/// <summary>Which implementation of the Terraform CLI a binary is.</summary>
public enum TerraformFlavor
{
    Terraform,
    OpenTofu,
}
