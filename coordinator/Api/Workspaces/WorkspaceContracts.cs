using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Templates;

namespace Provisioning.Coordinator.Api.Workspaces;

// The JSON shapes of the workspaces area (snake_case on the wire); kept together because they only make sense as a set.

/// <summary>A new workspace; <c>template_version_preset</c> names a preset of the template's active version whose values the first build applies.</summary>
internal sealed record CreateWorkspaceRequest(string? Name, string? Template, IReadOnlyList<NameValue>? RichParameterValues, string? TemplateVersionPreset = null);

/// <summary>
/// A build; <c>template_version</c> (default: the previous build's), <c>template_version_preset</c> (a preset of that
/// version), and <c>orphan</c> (delete only: remove the workspace without running Terraform, leaving its resources).
/// </summary>
internal sealed record CreateBuildRequest(
    string? Transition, IReadOnlyList<NameValue>? RichParameterValues, string? TemplateVersion, string? TemplateVersionPreset = null, bool? Orphan = null);

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

/// <summary>A build; <c>has_external_agents</c>: its template version has a <c>coder_external_agent</c>, an agent on a machine the template does not build.</summary>
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
    IReadOnlyList<ParameterValueResponse> RichParameterValues,
    bool HasExternalAgents = false);

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

internal sealed record AgentResponse(
    Guid Id,
    string Name,
    string OperatingSystem,
    string Architecture,
    string Directory,
    IReadOnlyList<AppResponse> Apps,
    IReadOnlyList<ScriptResponse> Scripts,
    IReadOnlyList<DevcontainerResponse> Devcontainers);

/// <summary>
/// A script an agent (or a devcontainer's sub-agent) runs, without its body; <c>dependencies</c> are the scripts it
/// waits for (<c>coder_script_order</c>), each with the outcome it needs: <c>success</c> or <c>completion</c>.
/// </summary>
internal sealed record ScriptResponse(
    string DisplayName,
    string ResourceAddress,
    bool RunOnStart,
    bool RunOnStop,
    string Cron,
    bool StartBlocksLogin,
    int TimeoutSeconds,
    IReadOnlyList<ScriptDependencyResponse> Dependencies);

internal sealed record ScriptDependencyResponse(string PrerequisiteResourceAddress, string Requirement);

/// <summary>
/// A <c>coder_devcontainer</c> of an agent and what its sub-agent gets. Environment variables are listed by name only:
/// like the agent's own, their values are for the agent, not for the API.
/// </summary>
internal sealed record DevcontainerResponse(
    string Name,
    string WorkspaceFolder,
    string ConfigPath,
    string SubagentId,
    IReadOnlyList<AppResponse> Apps,
    IReadOnlyList<ScriptResponse> Scripts,
    IReadOnlyList<DevcontainerEnvResponse> Envs);

internal sealed record DevcontainerEnvResponse(string Name, string MergeStrategy);

internal sealed record AppResponse(string Slug, string DisplayName, string Icon, string? Command, string? Url, bool External, bool Subdomain, string SharingLevel, bool Hidden);

/// <summary>
/// A build's timings, as its daemon reported them (<c>provisioner_job_timings</c>): <c>stages</c> are the Terraform
/// commands (init, plan, apply, …; no resource), <c>resources</c> the per-resource actions inside them.
/// </summary>
internal sealed record BuildTimingsResponse(int BuildNumber, Guid JobId, IReadOnlyList<TimingResponse> Stages, IReadOnlyList<TimingResponse> Resources);

internal sealed record TimingResponse(string Stage, string Source, string Action, string Resource, string State, DateTime StartedAt, DateTime EndedAt, double DurationSeconds);
