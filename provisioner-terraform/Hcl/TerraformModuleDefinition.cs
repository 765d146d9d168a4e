namespace Provisioning.Terraform.Hcl;

/// <summary>
/// What parse time needs from a root module: its input variables, in order of appearance, and the
/// workspace tags declared by <c>data "coder_workspace_tags"</c> blocks (key to raw expression text).
/// </summary>
public sealed record TerraformModuleDefinition(
    IReadOnlyList<VariableDefinition> Variables,
    IReadOnlyDictionary<string, string> WorkspaceTags);
