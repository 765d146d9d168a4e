using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Templates;

namespace Provisioning.Coordinator.Api.Workspaces;

// The JSON shapes of the workspaces area (snake_case on the wire); kept together because they only make sense as a set.

internal sealed record CreateWorkspaceRequest(string? Name, string? Template, IReadOnlyList<NameValue>? RichParameterValues);

internal sealed record CreateBuildRequest(string? Transition, IReadOnlyList<NameValue>? RichParameterValues, string? TemplateVersion);

internal sealed record WorkspaceResponse(
    Guid Id,
    string Name,
    Guid OwnerId,
    string OwnerName,
    Guid TemplateId,
    string TemplateName,
    DateTime CreatedAt,
    BuildResponse LatestBuild,
    IReadOnlyList<ResourceResponse> Resources,
    IReadOnlyList<string> Warnings);

/// <summary>A state kept because it arrived after its build ended and a newer build existed.</summary>
internal sealed record OrphanedStateResponse(
    Guid Id,
    int BuildNumber,
    Guid JobId,
    int Size,
    string Reason,
    DateTime CreatedAt,
    DateTime? RestoredAt,
    int? RestoredBuildNumber);

internal sealed record BuildResponse(
    Guid Id,
    Guid WorkspaceId,
    string WorkspaceName,
    int BuildNumber,
    string Transition,
    Guid TemplateVersionId,
    string TemplateVersionName,
    Guid? InitiatorId,
    string Reason,
    bool HasState,
    DateTime CreatedAt,
    JobResponse Job,
    IReadOnlyList<ParameterValueResponse> RichParameterValues);

internal sealed record ParameterValueResponse(string Name, string Value);

internal sealed record ResourceResponse(
    Guid Id,
    string Transition,
    string Type,
    string Name,
    bool Hide,
    string Icon,
    string InstanceType,
    int DailyCost,
    string ModulePath,
    IReadOnlyList<ResourceMetadataResponse> Metadata,
    IReadOnlyList<AgentResponse> Agents);

internal sealed record ResourceMetadataResponse(string Key, string? Value, bool Sensitive);

internal sealed record AgentResponse(Guid Id, string Name, string OperatingSystem, string Architecture, string Directory, IReadOnlyList<AppResponse> Apps);

internal sealed record AppResponse(string Slug, string DisplayName, string Icon, string? Command, string? Url, bool External, bool Subdomain, string SharingLevel, bool Hidden);
