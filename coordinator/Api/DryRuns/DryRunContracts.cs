using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Templates;

namespace Provisioning.Coordinator.Api.DryRuns;

// The JSON shapes of template version dry runs (snake_case on the wire).

/// <summary>
/// A dry run of a template version (Coder's workspace preview): the parameter values a build would get (resolved and
/// validated like a build's), optionally a preset of that version, and the workspace name Terraform sees (default
/// <c>preview</c>).
/// </summary>
internal sealed record CreateDryRunRequest(IReadOnlyList<NameValue>? RichParameterValues, string? TemplateVersionPreset = null, string? WorkspaceName = null);

/// <summary>A dry run: its job (status, queue, why it waits), the version it plans, and the values it plans with.</summary>
internal sealed record DryRunResponse(
    Guid Id,
    string TemplateName,
    string TemplateVersionName,
    string WorkspaceName,
    JobResponse Job,
    IReadOnlyList<NameValue> RichParameterValues);
