using Dapper;

using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.DryRuns;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Templates;
using Provisioning.Coordinator.Api.Workspaces;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Workspaces;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// Dry runs of template versions (Coder's workspace preview, issue 10 item 3), for a caller: a plan-only job on a
/// version whose import succeeded, with parameter values resolved and validated by <see cref="WorkspaceParameters"/>
/// exactly as a build's first values would be (so a preview refuses what a create would refuse), and routed like that
/// build. Any member may preview (creating a workspace needs no more); the dry run is its initiator's: others see it as
/// absent (<see cref="AccessPolicy.JobVisibleSql"/>), except those who see every job. Its resources are stored like a
/// build's (the job's <c>workspace_resources</c>) and read back here. The REST endpoints and in-process callers (the
/// dashboard) use this class, so the rules exist once.
/// </summary>
internal sealed class DryRunStore(NpgsqlDataSource dataSource, ProvisionerJobQueue queue, JobStore jobs, IOptions<CoordinatorOptions> options)
{
    /// <summary>The workspace name Terraform sees when the request names none.</summary>
    public const string DefaultWorkspaceName = "preview";

    private TimeSpan OfflineAfter => options.Value.JobHangTimeout;

    /// <summary>Queues a dry run of <paramref name="version"/> of <paramref name="template"/>; 400 (naming the field) for a bad value, nothing queued.</summary>
    public async Task<DryRunResponse> StartAsync(ApiUser caller, string template, string version, CreateDryRunRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        var workspaceName = string.IsNullOrWhiteSpace(request.WorkspaceName) ? DefaultWorkspaceName : request.WorkspaceName.Trim();
        if (!ApiNames.IsValid(workspaceName))
        {
            throw ApiProblemException.Invalid("workspace_name", $"'{workspaceName}' is not a valid workspace name: {ApiNames.Rule}.");
        }

        var given = new List<KeyValuePair<string, string>>();
        foreach (var value in request.RichParameterValues ?? [])
        {
            if (string.IsNullOrWhiteSpace(value.Name))
            {
                throw ApiProblemException.Invalid("rich_parameter_values", "Each parameter value needs a name.");
            }

            given.Add(new KeyValuePair<string, string>(value.Name, value.Value ?? string.Empty));
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var target = await RequireVersionAsync(connection, template, version, cancellationToken).ConfigureAwait(false);
        var source = await TemplateVersionInputs.LoadVersionAsync(connection, null, target.VersionId, cancellationToken).ConfigureAwait(false);
        if (source.JobStatus != "succeeded")
        {
            throw ApiProblemException.Invalid("template_version", $"Version '{source.Name}' of template '{target.TemplateName}' cannot be previewed: its import is {source.JobStatus}.");
        }

        var preset = await TemplateVersionInputs.LoadPresetAsync(connection, null, source.Id, request.TemplateVersionPreset, cancellationToken).ConfigureAwait(false);
        var definitions = await TemplateVersionInputs.LoadParametersAsync(connection, null, source.Id, cancellationToken).ConfigureAwait(false);
        var values = WorkspaceParameters.Resolve(definitions, given, previous: null, preset?.Values);
        var variables = await TemplateVersionInputs.LoadVariablesAsync(connection, null, source.Id, cancellationToken).ConfigureAwait(false);
        var tags = ProvisionerTags.FromJson(source.Tags);
        await queue.Ledger.EnsureQueueAsync(source.Provisioner, tags, cancellationToken).ConfigureAwait(false);

        var dryRun = new AcquiredJob.Types.TemplateDryRun
        {
            Metadata = new Sdk.Protocol.Metadata
            {
                WorkspaceTransition = WorkspaceTransition.Start,
                WorkspaceName = workspaceName,
                WorkspaceOwner = caller.Username,
                WorkspaceOwnerName = caller.Username,
                WorkspaceOwnerId = caller.Id.ToString(),
                WorkspaceOwnerEmail = caller.Email,
                TemplateId = target.TemplateId.ToString(),
                TemplateName = target.TemplateName,
                TemplateVersion = source.Name,
            },
        };
        dryRun.RichParameterValues.AddRange(values.Select(pair => new RichParameterValue { Name = pair.Key, Value = pair.Value }));
        dryRun.VariableValues.AddRange(variables);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var job = await queue.Ledger.InsertAsync(
            connection,
            transaction,
            new NewProvisionerJob(
                ProvisionerJobType.TemplateVersionDryRun, source.Provisioner, tags, ProvisionerJobInputs.ToInput(new AcquiredJob { TemplateDryRun = dryRun }), source.FileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO template_version_dry_runs (job_id, template_version_id, workspace_name) VALUES (@JobId, @VersionId, @WorkspaceName)",
            new { JobId = job.Id, VersionId = source.Id, WorkspaceName = workspaceName }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);

        // In the same transaction: the job is in its queue exactly when the dry run exists.
        await queue.PublishAsync(connection, transaction, job, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return await GetAsync(caller, template, version, job.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The dry run <paramref name="jobId"/> of that version, if the caller may see it; 404 otherwise.</summary>
    public async Task<DryRunResponse> GetAsync(ApiUser caller, string template, string version, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await RequireDryRunAsync(connection, caller, template, version, jobId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The resources the dry run's plan would create (empty until it succeeded).</summary>
    public async Task<IReadOnlyList<ResourceResponse>> GetResourcesAsync(ApiUser caller, string template, string version, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var dryRun = await RequireDryRunAsync(connection, caller, template, version, jobId, cancellationToken).ConfigureAwait(false);
        return await WorkspaceResources.LoadAsync(connection, dryRun.Job.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Up to a page of the dry run's log lines after <paramref name="after"/>, and its status (<see cref="JobStore.ReadLogsAsync"/>).</summary>
    public async Task<(IReadOnlyList<JobLogResponse> Logs, string Status)> ReadLogsAsync(
        ApiUser caller, string template, string version, Guid jobId, long after, CancellationToken cancellationToken = default)
    {
        await RequireAsync(caller, template, version, jobId, cancellationToken).ConfigureAwait(false);
        return await jobs.ReadLogsAsync(caller, jobId, after, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels the dry run (its initiator, or an admin: <see cref="AccessPolicy.CanCancelJob"/>).</summary>
    public async Task<DryRunResponse> CancelAsync(ApiUser caller, string template, string version, Guid jobId, CancellationToken cancellationToken = default)
    {
        await RequireAsync(caller, template, version, jobId, cancellationToken).ConfigureAwait(false);
        await jobs.CancelAsync(caller, jobId, cancellationToken).ConfigureAwait(false);
        return await GetAsync(caller, template, version, jobId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>404 unless <paramref name="jobId"/> is a dry run of that version that the caller may see.</summary>
    public async Task RequireAsync(ApiUser caller, string template, string version, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await RequireDryRunAsync(connection, caller, template, version, jobId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DryRunResponse> RequireDryRunAsync(
        NpgsqlConnection connection, ApiUser caller, string template, string version, Guid jobId, CancellationToken cancellationToken)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        var target = await RequireVersionAsync(connection, template, version, cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<(string? WorkspaceName, string? Input)>(new CommandDefinition(
            """
            SELECT d.workspace_name, j.input::text FROM template_version_dry_runs d JOIN provisioner_jobs j ON j.id = d.job_id
            WHERE d.job_id = @JobId AND d.template_version_id = @VersionId
            """,
            new { JobId = jobId, target.VersionId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var job = row.WorkspaceName is null ? null : await JobViews.GetAsync(connection, jobId, caller, OfflineAfter, cancellationToken).ConfigureAwait(false);
        if (job is null || row.WorkspaceName is not { } workspaceName)
        {
            throw ApiProblemException.NotFound($"Version '{target.VersionName}' of template '{target.TemplateName}' has no dry run {jobId}.");
        }

        var input = ProvisionerJobInputs.FromInput(row.Input);
        return new DryRunResponse(
            jobId, target.TemplateName, target.VersionName, workspaceName, job,
            [.. input.TemplateDryRun.RichParameterValues.Select(value => new NameValue(value.Name, value.Value))]);
    }

    private static async Task<(Guid TemplateId, string TemplateName, Guid VersionId, string VersionName)> RequireVersionAsync(
        NpgsqlConnection connection, string template, string version, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(Guid TemplateId, string TemplateName, Guid? VersionId, string? VersionName)>(new CommandDefinition(
            """
            SELECT t.id, t.name, v.id, v.name FROM templates t
            LEFT JOIN template_versions v ON v.template_id = t.id AND lower(v.name) = lower(@Version)
            WHERE NOT t.deleted AND lower(t.name) = lower(@Template)
            """,
            new { Template = template, Version = version }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.TemplateId == Guid.Empty)
        {
            throw ApiProblemException.NotFound($"Template '{template}' does not exist.");
        }

        return row.VersionId is { } versionId
            ? (row.TemplateId, row.TemplateName, versionId, row.VersionName!)
            : throw ApiProblemException.NotFound($"Template '{row.TemplateName}' has no version '{version}'.");
    }
}
