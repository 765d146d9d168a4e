namespace Provisioning.Terraform.Sandbox;

/// <summary>What the sandbox check found: whether Terraform runs isolated, and a sentence saying how (or why not and what to do).</summary>
/// <param name="Mode">The configured mode.</param>
/// <param name="Isolated">True when every Terraform command runs in the sandbox.</param>
/// <param name="Description">For an operator: the sandbox in use, or the risk and the fix.</param>
public sealed record TerraformSandboxStatus(TerraformSandboxMode Mode, bool Isolated, string Description)
{
    /// <summary>What isolates Terraform in effect: <c>docker</c>, <c>bubblewrap</c> or <c>none</c> (what auto chose, for banners and logs).</summary>
    public string InEffect { get; init; } = "none";
}
