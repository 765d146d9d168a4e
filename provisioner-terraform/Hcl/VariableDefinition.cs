namespace Provisioning.Terraform.Hcl;

/// <summary>
/// One <c>variable</c> block of a root module.
/// </summary>
/// <param name="Name">The variable's name (the block label).</param>
/// <param name="Type">The type constraint as written (whitespace collapsed), or null when absent.</param>
/// <param name="Description">The description, or "" when absent.</param>
/// <param name="DefaultJson">The default value as compact JSON text, or null when there is no default attribute (<c>default = null</c> gives "null").</param>
/// <param name="Sensitive">Whether the variable is marked sensitive.</param>
/// <param name="Nullable">Whether null is an accepted value (Terraform's default: true).</param>
/// <param name="Required">True when there is no default attribute.</param>
/// <param name="FilePath">The file name relative to the module directory.</param>
/// <param name="Line">The 1-based line of the block's header.</param>
public sealed record VariableDefinition(
    string Name,
    string? Type,
    string Description,
    string? DefaultJson,
    bool Sensitive,
    bool Nullable,
    bool Required,
    string FilePath,
    int Line);
