namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// A template version's rich parameter (<c>coder_parameter</c>) as a build resolves and validates it; the fields are
/// those of <c>template_version_parameters</c>, which the import's report fills.
/// </summary>
internal sealed record WorkspaceParameter(
    string Name,
    string DisplayName,
    string Type,
    string FormType,
    bool Mutable,
    string DefaultValue,
    bool Required,
    bool Ephemeral,
    IReadOnlyList<string> OptionValues,
    string ValidationRegex,
    string ValidationError,
    int? ValidationMin,
    int? ValidationMax,
    string ValidationMonotonic)
{
    /// <summary>A parameter with no options and no validation (tests and simple templates).</summary>
    public static WorkspaceParameter Simple(string name, string type = "string", string defaultValue = "", bool required = false, bool mutable = true, bool ephemeral = false) =>
        new(name, string.Empty, type, string.Empty, mutable, defaultValue, required, ephemeral, [], string.Empty, string.Empty, null, null, string.Empty);

    /// <summary>The name users see in messages: the display name when the template gives one.</summary>
    public string ShownName => DisplayName.Length > 0 ? DisplayName : Name;
}
