namespace Provisioning.Terraform.Hcl;

/// <summary>What one file declares, before the files of a module are merged.</summary>
internal sealed record TerraformModuleContents(IReadOnlyList<VariableAttributes> Variables, IReadOnlyList<WorkspaceTagsBlock> WorkspaceTags);
