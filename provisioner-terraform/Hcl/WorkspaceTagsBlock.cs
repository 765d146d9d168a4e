namespace Provisioning.Terraform.Hcl;

/// <summary>One <c>data "coder_workspace_tags"</c> block's tags, with where each key was written.</summary>
internal sealed record WorkspaceTagsBlock(string Name, IReadOnlyList<WorkspaceTag> Tags, string FilePath, int Line);

internal sealed record WorkspaceTag(string Key, string ExpressionText, string FilePath, int Line, int Column);
