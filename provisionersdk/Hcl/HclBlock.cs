namespace Provisioning.Sdk.Hcl;

internal sealed record HclBlock(string Type, IReadOnlyList<string> Labels, HclBody Body, int Line, int Column);
