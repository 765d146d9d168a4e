namespace Provisioning.Terraform.Binaries;

/// <summary>A checked Terraform (or OpenTofu) executable.</summary>
/// <param name="Path">The absolute path of the executable.</param>
/// <param name="Version">The version it reported in <c>version -json</c>.</param>
/// <param name="Flavor">Terraform or OpenTofu.</param>
/// <param name="Platform">The platform it reported, e.g. <c>linux_amd64</c>.</param>
public sealed record TerraformBinary(string Path, Version Version, TerraformFlavor Flavor, string Platform)
{
    public override string ToString() => $"{Flavor} {Version} ({Path})";
}
