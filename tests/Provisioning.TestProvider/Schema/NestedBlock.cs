namespace Provisioning.TestProvider.Schema;

/// <summary>How a nested block repeats: SDKv2's TypeList of a resource is a list block, TypeSet a set block.</summary>
internal enum BlockNesting
{
    List = 2,
    Set = 3,
}

/// <summary>A nested block type (SDKv2 TypeList/TypeSet with a resource element).</summary>
internal sealed record NestedBlock(string Name, SchemaBlock Block, BlockNesting Nesting)
{
    public int MinItems { get; init; }

    public int MaxItems { get; init; }

    /// <summary>SDKv2's Optional+Computed block (coder_agent.display_apps): the provider fills it when the configuration has none.</summary>
    public bool Computed { get; init; }
}
