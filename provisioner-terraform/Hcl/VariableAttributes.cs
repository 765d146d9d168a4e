namespace Provisioning.Terraform.Hcl;

/// <summary>
/// The arguments one variable block sets, whichever syntax it came from. Override files only change
/// what they set, so "not set" must stay distinguishable from a default value.
/// </summary>
internal sealed record VariableAttributes(
    string Name,
    string FilePath,
    int Line,
    int Column,
    bool HasType,
    string? Type,
    string? Description,
    bool HasDefault,
    string? DefaultJson,
    bool? Sensitive,
    bool? Nullable)
{
    public VariableDefinition ToDefinition() => new(
        Name,
        Type,
        Description ?? "",
        HasDefault ? DefaultJson : null,
        Sensitive ?? false,
        Nullable ?? true,
        Required: !HasDefault,
        FilePath,
        Line);

    /// <summary>Terraform's override rule: each argument the override sets replaces the base's.</summary>
    public VariableAttributes OverriddenBy(VariableAttributes overrides) => this with
    {
        HasType = HasType || overrides.HasType,
        Type = overrides.HasType ? overrides.Type : Type,
        Description = overrides.Description ?? Description,
        HasDefault = HasDefault || overrides.HasDefault,
        DefaultJson = overrides.HasDefault ? overrides.DefaultJson : DefaultJson,
        Sensitive = overrides.Sensitive ?? Sensitive,
        Nullable = overrides.Nullable ?? Nullable,
    };
}
