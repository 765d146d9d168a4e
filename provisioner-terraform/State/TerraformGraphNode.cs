namespace Provisioning.Terraform.State;

/// <summary>A node of a <c>terraform graph</c> DOT graph.</summary>
internal sealed class TerraformGraphNode(string name)
{
    private const string RootPrefix = "[root] ";
    private const string ExpandSuffix = " (expand)";

    /// <summary>The node id without DOT quoting, e.g. <c>[root] coder_agent.main (expand)</c> or <c>coder_agent.main</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The <c>label</c> attribute, if the node was declared with one.</summary>
    public string? Label
    {
        get;
        internal set
        {
            field = value;
            Address = value is null ? null : Name.StartsWith(RootPrefix, StringComparison.Ordinal) ? value : Name;
        }
    }

    public override string ToString() => Name;

    /// <summary>
    /// The Terraform address (without instance keys) this node stands for, or null for nodes that are not
    /// declared resources. In the older style (<c>[root] x (expand)</c>) the label is the full address; in
    /// the newer style (Terraform 1.7+) the node id is the address and labels inside module clusters are
    /// shortened, so the id is the reliable source. Set with the label: conversions read it for every node.
    /// </summary>
    public string? Address { get; private set; }

    /// <summary>
    /// The address spelled by the node id: the part between <c>[root] </c> and <c> (expand)</c> in the older
    /// style, the whole id in the newer one; null for other ids (providers, <c>(close)</c> nodes, …).
    /// </summary>
    public string? IdAddress
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
