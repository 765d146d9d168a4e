namespace Provisioning.Terraform.State;

/// <summary>A node of a <c>terraform graph</c> DOT graph.</summary>
internal sealed class TerraformGraphNode(string name, int index)
{
    private const string RootPrefix = "[root] ";
    private const string ExpandSuffix = " (expand)";

    /// <summary>The node id without DOT quoting, e.g. <c>[root] coder_agent.main (expand)</c> or <c>coder_agent.main</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The <c>label</c> attribute, if the node was declared with one.</summary>
    public string? Label { get; internal set; }

    /// <summary>Declaration order, used to break ties deterministically.</summary>
    public int Index { get; } = index;

    public override string ToString() => Name;

    /// <summary>
    /// The Terraform address (without instance keys) this node stands for, or null for nodes that are not
    /// declared resources. In the older style (<c>[root] x (expand)</c>) the label is the full address; in
    /// the newer style (Terraform 1.7+) the node id is the address and labels inside module clusters are
    /// shortened, so the id is the reliable source.
    /// </summary>
    public string? Address => Label is null ? null : Name.StartsWith(RootPrefix, StringComparison.Ordinal) ? Label : Name;

    /// <summary>
    /// The address of the node when it is a root-module node: the part between <c>[root] </c> and
    /// <c> (expand)</c> in the older style, the node id in the newer one; otherwise null. Plan-time
    /// association (where ids are still unknown) matches edges on these, so, as in the reference system,
    /// resources inside modules never match (their address starts with <c>module.</c>).
    /// </summary>
    public string? RootResourceAddress
    {
        get
        {
            if (Name.StartsWith(RootPrefix, StringComparison.Ordinal) && Name.EndsWith(ExpandSuffix, StringComparison.Ordinal))
            {
                return Name[RootPrefix.Length..^ExpandSuffix.Length];
            }

            return Name.StartsWith('[') ? null : Name;
        }
    }
}
