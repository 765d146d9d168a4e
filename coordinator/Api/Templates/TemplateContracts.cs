using Provisioning.Coordinator.Api.Jobs;

namespace Provisioning.Coordinator.Api.Templates;

// The JSON shapes of the templates area (snake_case on the wire); kept together because they only make sense as a set.

internal sealed record NameValue(string? Name, string? Value);

internal sealed record CreateTemplateVersionRequest(
    string? FileHash,
    string? Name,
    string? Message,
    IReadOnlyList<NameValue>? UserVariableValues,
    IReadOnlyDictionary<string, string>? ProvisionerTags,
    bool? Activate,
    string? Provisioner);

internal sealed record TemplateResponse(
    Guid Id, string Name, string DisplayName, string Description, string Provisioner, Guid? ActiveVersionId, string? ActiveVersionName, DateTime CreatedAt, DateTime UpdatedAt);

internal sealed record TemplateVariableResponse(string Name, string Description, string Type, string? Value, string DefaultValue, bool Required, bool Sensitive);

internal sealed record TemplateParameterResponse(
    string Name,
    string DisplayName,
    string Description,
    string Type,
    bool Mutable,
    string DefaultValue,
    bool Required,
    bool Ephemeral,
    int DisplayOrder,
    string FormType = "",
    IReadOnlyList<ParameterOptionResponse>? Options = null,
    string ValidationRegex = "",
    string ValidationError = "",
    int? ValidationMin = null,
    int? ValidationMax = null,
    string ValidationMonotonic = "");

internal sealed record ParameterOptionResponse(string Name, string Value, string Description);

/// <summary>
/// A preset (<c>coder_workspace_preset</c>) of a template version: parameter values a build can apply by name, what it is
/// for (description, icon), and its prebuild policy as declared (time to live of an unclaimed prebuild, schedules).
/// </summary>
internal sealed record TemplatePresetResponse(
    string Name, bool Default, int? PrebuildInstances, IReadOnlyList<NameValue> Parameters,
    string Description = "", string Icon = "", int? PrebuildTtlSeconds = null, PrebuildSchedulingResponse? PrebuildScheduling = null);

internal sealed record TemplateVersionResponse(
    Guid Id,
    Guid TemplateId,
    string TemplateName,
    string Name,
    string Message,
    string Readme,
    bool Active,
    bool ActivateOnSuccess,
    DateTime CreatedAt,
    JobResponse Job,
    IReadOnlyList<TemplateVariableResponse> Variables,
    IReadOnlyList<TemplateParameterResponse> Parameters,
    IReadOnlyList<TemplatePresetResponse>? Presets = null,
    string? FileHash = null,
    bool HasExternalAgents = false);
