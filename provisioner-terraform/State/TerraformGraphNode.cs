namespace Provisioning.Terraform.State;

/// <summary>A node of a <c>terraform graph</c> DOT graph.</summary>
/// <remarks>
/// The id and the label stay slices of the DOT text until a caller reads them as strings: a conversion reads the
/// strings of the few nodes near <c>coder_*</c> resources, not of the thousands of others.
/// </remarks>
internal sealed class TerraformGraphNode
{
    private const string RootPrefix = "[root] ";
    private const string ExpandSuffix = " (expand)";

    private readonly TextSlice _name;
    private TextSlice _label;
    private bool _hasLabel;
    private string? _nameText;
    private string? _labelText;

    internal TerraformGraphNode(TextSlice name)
    {
        _name = name;
    }

    /// <summary>The node id without DOT quoting, e.g. <c>[root] coder_agent.main (expand)</c> or <c>coder_agent.main</c>.</summary>
    public string Name => _nameText ??= _name.ToString();

    /// <summary>The <c>label</c> attribute, if the node was declared with one.</summary>
    public string? Label => _hasLabel ? _labelText ??= _label.ToString() : null;

    public override string ToString() => Name;

    /// <summary>
    /// The Terraform address (without instance keys) this node stands for, or null for nodes that are not
    /// declared resources. In the older style (<c>[root] x (expand)</c>) the label is the full address; in
    /// the newer style (Terraform 1.7+) the node id is the address and labels inside module clusters are
    /// shortened, so the id is the reliable source.
    /// </summary>
    public string? Address => !_hasLabel ? null : IsOlderStyle ? Label : Name;

    /// <summary>
    /// The address spelled by the node id: the part between <c>[root] </c> and <c> (expand)</c> in the older
    /// style, the whole id in the newer one; null for other ids (providers, <c>(close)</c> nodes, …).
    /// </summary>
    public string? IdAddress
    {
        get
        {
            var name = _name.AsSpan();
            if (name.StartsWith(RootPrefix, StringComparison.Ordinal) && name.EndsWith(ExpandSuffix, StringComparison.Ordinal))
            {
                return name[RootPrefix.Length..^ExpandSuffix.Length].ToString();
            }

            return name.StartsWith('[') ? null : Name;
        }
    }

    internal TextSlice NameSlice => _name;

    /// <summary>The characters of <see cref="Label"/> (empty when there is none), without making a string of them.</summary>
    internal ReadOnlySpan<char> LabelSpan => _hasLabel ? _label.AsSpan() : [];

    /// <summary>The characters of <see cref="Address"/> (empty when there is none), without making a string of them.</summary>
    internal ReadOnlySpan<char> AddressSpan => !_hasLabel ? [] : IsOlderStyle ? _label.AsSpan() : _name.AsSpan();

    /// <summary>Whether the node has an <see cref="Address"/>.</summary>
    internal bool HasAddress => _hasLabel;

    /// <summary>The slice <see cref="Address"/> is read from; only meaningful when <see cref="HasAddress"/>.</summary>
    internal TextSlice AddressSlice => IsOlderStyle ? _label : _name;

    /// <summary>The nodes this one depends on (targets of its edges), in edge order; null when none.</summary>
    internal List<TerraformGraphNode>? Dependencies { get; set; }

    /// <summary>The nodes that depend on this one (sources of edges into it), in edge order; null when none.</summary>
    internal List<TerraformGraphNode>? Dependents { get; set; }

    /// <summary>The number of the last <see cref="TerraformGraph.Nearest"/> walk that reached this node (its visited mark).</summary>
    internal int LastWalk { get; set; }

    private bool IsOlderStyle => _name.AsSpan().StartsWith(RootPrefix, StringComparison.Ordinal);

    /// <summary>Sets the <c>label</c> attribute (a later declaration's label replaces an earlier one).</summary>
    internal void SetLabel(TextSlice label)
    {
        _label = label;
        _labelText = null;
        _hasLabel = true;
    }
}
