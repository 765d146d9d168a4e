// The JSON shapes of the coordinator's /api/v1 (snake_case on the wire) are the coordinator's own contract
// records (visible to this assembly), so the CLI and the server cannot drift apart; these aliases keep the
// CLI's shorter names. `--output json` prints them as received.
global using Agent = Provisioning.Coordinator.Api.Workspaces.AgentResponse;
global using App = Provisioning.Coordinator.Api.Workspaces.AppResponse;
global using Build = Provisioning.Coordinator.Api.Workspaces.BuildResponse;
global using BuildInfo = Provisioning.Coordinator.Api.Health.BuildInfoResponse;
global using BuildTimings = Provisioning.Coordinator.Api.Workspaces.BuildTimingsResponse;
global using CreateBuildRequest = Provisioning.Coordinator.Api.Workspaces.CreateBuildRequest;
global using CreateDryRunRequest = Provisioning.Coordinator.Api.DryRuns.CreateDryRunRequest;
global using CreatedProvisionerKey = Provisioning.Coordinator.Api.Provisioners.CreatedProvisionerKeyResponse;
global using CreateProvisionerKeyRequest = Provisioning.Coordinator.Api.Provisioners.CreateProvisionerKeyRequest;
global using CreateTemplateVersionRequest = Provisioning.Coordinator.Api.Templates.CreateTemplateVersionRequest;
global using CreateWorkspaceRequest = Provisioning.Coordinator.Api.Workspaces.CreateWorkspaceRequest;
global using DryRun = Provisioning.Coordinator.Api.DryRuns.DryRunResponse;
global using Job = Provisioning.Coordinator.Api.Jobs.JobResponse;
global using JobLog = Provisioning.Coordinator.Api.Jobs.JobLogResponse;
global using NameValue = Provisioning.Coordinator.Api.Templates.NameValue;
global using OrphanedState = Provisioning.Coordinator.Api.Workspaces.OrphanedStateResponse;
global using ProvisionerDaemon = Provisioning.Coordinator.Api.Provisioners.ProvisionerDaemonResponse;
global using ProvisionerKey = Provisioning.Coordinator.Api.Provisioners.ProvisionerKeyResponse;
global using Resource = Provisioning.Coordinator.Api.Workspaces.ResourceResponse;
global using ResourceMetadata = Provisioning.Coordinator.Api.Workspaces.ResourceMetadataResponse;
global using Script = Provisioning.Coordinator.Api.Workspaces.ScriptResponse;
global using Template = Provisioning.Coordinator.Api.Templates.TemplateResponse;
global using TemplateParameter = Provisioning.Coordinator.Api.Templates.TemplateParameterResponse;
global using TemplatePreset = Provisioning.Coordinator.Api.Templates.TemplatePresetResponse;
global using TemplateVariable = Provisioning.Coordinator.Api.Templates.TemplateVariableResponse;
global using TemplateVersion = Provisioning.Coordinator.Api.Templates.TemplateVersionResponse;
global using Timing = Provisioning.Coordinator.Api.Workspaces.TimingResponse;
global using UploadedFile = Provisioning.Coordinator.Api.Files.FileResponse;
global using User = Provisioning.Coordinator.Api.Users.UserResponse;
global using Workspace = Provisioning.Coordinator.Api.Workspaces.WorkspaceResponse;

namespace Provisioning.Cli.Client;

/// <summary>The <c>event: end</c> of a job's log stream (the server writes it as an anonymous object).</summary>
internal sealed record JobEnd(string Status);

internal static class JobStatuses
{
    extension(Job job)
    {
        /// <summary>Whether the job has ended (succeeded, failed or canceled).</summary>
        public bool IsTerminal => job.Status is "succeeded" or "failed" or "canceled";
    }
}
