namespace Provisioning.Terraform.Binaries;

/// <summary>The Terraform versions this provisioner is tested with: &gt;= 1.5.0 and &lt; 2.0.0.</summary>
public static class TerraformVersionRange
{
    /// <summary>The oldest supported version; older ones lack <c>terraform_data</c> and <c>init -json</c> fixes we rely on.</summary>
    public static Version Minimum { get; } = new(1, 5, 0);

    /// <summary>The first unsupported version: a new major version may change the JSON formats.</summary>
    public static Version MaximumExclusive { get; } = new(2, 0, 0);

    public static string Description => $">= {Minimum}, < {MaximumExclusive}";

    public static bool IsSupported(Version version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version >= Minimum && version < MaximumExclusive;
    }
}
