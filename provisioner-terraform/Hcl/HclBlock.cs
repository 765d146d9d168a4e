namespace Provisioning.Terraform.Hcl;

internal sealed record HclBlock(string Type, IReadOnlyList<string> Labels, HclBody Body, int Line, int Column);
