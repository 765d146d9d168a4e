namespace Provisioning.Sdk.Hcl;

/// <summary>The attributes and blocks of a file or a block, each in order of appearance.</summary>
internal sealed record HclBody(IReadOnlyList<HclAttribute> Attributes, IReadOnlyList<HclBlock> Blocks)
{
    public HclAttribute? Attribute(string name) => Attributes.FirstOrDefault(attribute => attribute.Name == name);
}
