namespace Provisioning.Sdk.Hcl;

internal sealed record HclAttribute(string Name, HclExpression Expression, int Line, int Column);
