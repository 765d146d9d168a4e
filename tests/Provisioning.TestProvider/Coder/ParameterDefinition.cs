namespace Provisioning.TestProvider.Coder;

/// <summary>A coder_parameter's configuration as its checks read it (the real provider's Parameter struct).</summary>
internal sealed record ParameterDefinition(
    string Name,
    string Type,
    string FormType,
    bool Mutable,
    string? Default,
    IReadOnlyList<(string Name, string Value)> Options,
    ParameterValidationRule? Validation,
    bool Ephemeral);
