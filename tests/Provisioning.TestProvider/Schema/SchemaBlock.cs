using Google.Protobuf;

using Provisioning.TestProvider.Cty;

using Proto = Provisioning.TestProvider.Tfplugin6;

namespace Provisioning.TestProvider.Schema;

/// <summary>A block: attributes and nested blocks. Its value is an object with one attribute per attribute and nested block.</summary>
internal sealed class SchemaBlock
{
    public SchemaBlock(IEnumerable<SchemaAttribute> attributes, IEnumerable<NestedBlock>? blocks = null)
    {
        Attributes = attributes.ToDictionary(attribute => attribute.Name, StringComparer.Ordinal);
        Blocks = (blocks ?? []).ToDictionary(block => block.Name, StringComparer.Ordinal);
        var types = new SortedDictionary<string, CtyType>(StringComparer.Ordinal);
        foreach (var attribute in Attributes.Values)
        {
            types[attribute.Name] = attribute.Type;
        }

        foreach (var block in Blocks.Values)
        {
            types[block.Name] = block.Nesting == BlockNesting.Set ? CtyType.SetOf(block.Block.ImpliedType) : CtyType.ListOf(block.Block.ImpliedType);
        }

        ImpliedType = new CtyObject(types);
    }

    public IReadOnlyDictionary<string, SchemaAttribute> Attributes { get; }

    public IReadOnlyDictionary<string, NestedBlock> Blocks { get; }

    public CtyObject ImpliedType { get; }

    public Proto.Schema.Types.Block ToProto()
    {
        var block = new Proto.Schema.Types.Block();
        foreach (var attribute in Attributes.Values.OrderBy(attribute => attribute.Name, StringComparer.Ordinal))
        {
            block.Attributes.Add(new Proto.Schema.Types.Attribute
            {
                Name = attribute.Name,
                Type = ByteString.CopyFromUtf8(attribute.Type.ToJson().ToJsonString()),
                Required = attribute.Required,
                Optional = attribute.Optional,
                Computed = attribute.Computed,
                Sensitive = attribute.Sensitive,
                Deprecated = attribute.Deprecated,
            });
        }

        foreach (var nested in Blocks.Values.OrderBy(nested => nested.Name, StringComparer.Ordinal))
        {
            block.BlockTypes.Add(new Proto.Schema.Types.NestedBlock
            {
                TypeName = nested.Name,
                Block = nested.Block.ToProto(),
                Nesting = (Proto.Schema.Types.NestedBlock.Types.NestingMode)nested.Nesting,
                MinItems = nested.MinItems,
                MaxItems = nested.MaxItems,
            });
        }

        return block;
    }
}
