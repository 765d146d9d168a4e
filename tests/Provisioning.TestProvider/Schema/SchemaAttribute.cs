using Provisioning.TestProvider.Cty;

namespace Provisioning.TestProvider.Schema;

/// <summary>
/// One attribute of a block, with what the coder provider's SDKv2 schema says about it: its type, whether it is
/// required, optional or computed, its default (applied by the provider, not by Terraform, as in SDKv2), and a check
/// of a known value that returns an error summary (SDKv2's ValidateFunc) or null.
/// </summary>
internal sealed record SchemaAttribute(string Name, CtyType Type)
{
    public bool Required { get; init; }

    public bool Optional { get; init; }

    public bool Computed { get; init; }

    public bool Sensitive { get; init; }

    public bool Deprecated { get; init; }

    /// <summary>SDKv2's Default: what a null configuration value becomes in the plan (or the data source's state).</summary>
    public object? Default { get; init; }

    public Func<object, string?>? Check { get; init; }
}
