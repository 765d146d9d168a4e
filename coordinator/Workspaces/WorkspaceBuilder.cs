using Dapper;

using Npgsql;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// The one writer of workspace builds (Coder's <c>wsbuilder</c> is the model; docs/decisions/0003-authorization-layer.md):
/// a new workspace with its first build, build n+1 for a transition, and a state recorded by hand. Every
/// caller goes through here, so each rule exists once:
/// <list type="bullet">
/// <item>the caller may change the workspace (<see cref="AccessPolicy"/>), checked here whatever the caller checked;</item>
/// <item>one active build per workspace (invariant 4): the workspace row is locked while checking, and the
/// unique index on active builds catches the rest;</item>
/// <item>state only moves forward (invariant 3, issue 9 item 1): build n+1 starts with build n's state, so a
/// build that ends without a daemon's report (canceled while pending, reaped, released) leaves the workspace
/// with the state it had; only a state a daemon reports for that build replaces it (JobResultWriter);</item>
/// <item>the build's job is inserted and published in the same transaction as the build row.</item>
/// </list>
/// </summary>
internal sealed class WorkspaceBuilder(NpgsqlDataSource dataSource, ProvisionerJobQueue queue)
{
    public const string Start = "start";
    public const string Stop = "stop";
    public const string Delete = "delete";

    private static readonly string[] Transitions = [Start, Stop, Delete];

    /// <summary>The transition named by <paramref name="transition"/> (start, stop, delete), or 400 naming <c>transition</c>.</summary>
    public static string ParseTransition(string? transition)
    {
        var normalized = transition?.Trim().ToLowerInvariant() ?? string.Empty;
        return Transitions.Contains(normalized)
            ? normalized
            : throw ApiProblemException.Invalid("transition", $"Unknown transition '{transition}': use start, stop or delete.");
    }

    /// <summary>Creates a workspace owned by <paramref name="caller"/> from a template's active version, with its first (start) build queued; returns the workspace's id.</summary>
    public async Task<Guid> CreateWorkspaceAsync(
        ApiUser caller,
        string? name,
        string? templateName,
        IReadOnlyList<KeyValuePair<string, string>>? parameters,
        string? preset = null,
        CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        var workspaceName = name?.Trim() ?? string.Empty;
        if (!ApiNames.IsValid(workspaceName))
        {
            throw ApiProblemException.Invalid("name", $"'{workspaceName}' is not a valid workspace name: {ApiNames.Rule}.");
        }

        if (string.IsNullOrWhiteSpace(templateName))
        {
            throw ApiProblemException.Invalid("template", "Name the template to create the workspace from.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var template = await connection.QuerySingleOrDefaultAsync<(Guid Id, string Name, Guid? ActiveVersionId)>(new CommandDefinition(
            "SELECT id, name, active_version_id FROM templates WHERE NOT deleted AND lower(name) = lower(@Name)",
            new { Name = templateName.Trim() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (template.Id == Guid.Empty)
        {
            throw ApiProblemException.Invalid("template", $"Template '{templateName}' does not exist: list templates with GET /api/v1/templates.");
        }

        if (template.ActiveVersionId is not { } versionId)
        {
            throw ApiProblemException.Invalid("template", $"Template '{template.Name}' has no version whose import succeeded yet: push one and wait for its import.");
        }

        var chosen = await TemplateVersionInputs.LoadPresetAsync(connection, transaction, versionId, preset, cancellationToken).ConfigureAwait(false);
        var values = WorkspaceParameters.Resolve(
            await TemplateVersionInputs.LoadParametersAsync(connection, transaction, versionId, cancellationToken).ConfigureAwait(false), parameters, previous: null, chosen?.Values);
        var taken = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM workspaces WHERE owner_id = @OwnerId AND lower(name) = lower(@Name) AND NOT deleted)",
            new { OwnerId = caller.Id, Name = workspaceName }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (taken)
        {
            throw ApiProblemException.Conflict($"You already have a workspace named '{workspaceName}'.");
        }

        var workspaceId = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
            "INSERT INTO workspaces (owner_id, template_id, name) VALUES (@OwnerId, @TemplateId, @Name) RETURNING id",
            new { OwnerId = caller.Id, TemplateId = template.Id, Name = workspaceName }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var workspace = new WorkspaceRecord(workspaceId, workspaceName, caller.Id, caller.Username, caller.Email, template.Id, template.Name, DateTime.UtcNow);
        await InsertBuildAsync(
            connection, transaction, workspace, caller, versionId, Start, values, new Dictionary<string, string>(), chosen?.Id, buildNumber: 1, previousState: null, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return workspaceId;
    }

    /// <summary>
    /// Queues build n+1 of <paramref name="workspace"/> for <paramref name="transition"/>, on the previous build's
    /// template version unless <paramref name="templateVersion"/> names another, with <paramref name="preset"/>'s values
    /// when it names one of that version's presets; returns its build number. With <paramref name="orphan"/> (delete
    /// only) nothing runs: see <see cref="OrphanAsync"/>.
    /// </summary>
    public async Task<int> BuildAsync(
        ApiUser caller,
        WorkspaceRecord workspace,
        string transition,
        IReadOnlyList<KeyValuePair<string, string>>? parameters,
        string? templateVersion,
        string? preset = null,
        bool orphan = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        transition = ParseTransition(transition);
        if (orphan)
        {
            return transition == Delete
                ? await OrphanAsync(caller, workspace, cancellationToken).ConfigureAwait(false)
                : throw ApiProblemException.Invalid("orphan", "Orphan is only permitted when deleting a workspace: use the delete transition.");
        }

        AccessPolicy.RequireChangeWorkspace(caller, workspace.OwnerId, workspace.OwnerName, workspace.Name);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var latest = await LockAsync(connection, transaction, workspace, cancellationToken).ConfigureAwait(false);
        var versionId = latest.VersionId;
        if (!string.IsNullOrWhiteSpace(templateVersion))
        {
            versionId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
                "SELECT id FROM template_versions WHERE template_id = @TemplateId AND lower(name) = lower(@Name)",
                new { workspace.TemplateId, Name = templateVersion.Trim() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)
                ?? throw ApiProblemException.Invalid("template_version", $"Template '{workspace.TemplateName}' has no version '{templateVersion}'.");
            var source = await TemplateVersionInputs.LoadVersionAsync(connection, transaction, versionId, cancellationToken).ConfigureAwait(false);
            if (source.JobStatus != "succeeded")
            {
                throw ApiProblemException.Invalid("template_version", $"Version '{source.Name}' cannot be built: its import is {source.JobStatus}.");
            }
        }

        var previousValues = await LoadValuesAsync(connection, transaction, latest.Id, cancellationToken).ConfigureAwait(false);
        var definitions = await TemplateVersionInputs.LoadParametersAsync(connection, transaction, versionId, cancellationToken).ConfigureAwait(false);
        var chosen = await TemplateVersionInputs.LoadPresetAsync(connection, transaction, versionId, preset, cancellationToken).ConfigureAwait(false);
        var values = WorkspaceParameters.Resolve(definitions, parameters, previousValues, chosen?.Values);
        await InsertBuildAsync(
            connection, transaction, workspace, caller, versionId, transition, values, previousValues, chosen?.Id, latest.Number + 1, latest.State, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return latest.Number + 1;
    }

    /// <summary>
    /// Deletes the workspace without destroying anything (Coder's <c>delete --orphan</c>), for a state Terraform cannot
    /// destroy any more: build n+1 is a delete whose job is born succeeded, keeps the previous state (nothing is ever
    /// thrown away, invariant 3), and the workspace is marked deleted in the same transaction. Like
    /// recording a state by hand it is a repair that leaves resources behind, so it needs the template-admin role on one's
    /// own workspace (admins on any), as Coder allows it to template managers only. Returns the build number.
    /// </summary>
    public async Task<int> OrphanAsync(ApiUser caller, WorkspaceRecord workspace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        AccessPolicy.RequireOrphan(caller, workspace.OwnerId, workspace.OwnerName, workspace.Name);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var latest = await LockAsync(connection, transaction, workspace, cancellationToken).ConfigureAwait(false);
        var values = await LoadValuesAsync(connection, transaction, latest.Id, cancellationToken).ConfigureAwait(false);
        var version = await TemplateVersionInputs.LoadVersionAsync(connection, transaction, latest.VersionId, cancellationToken).ConfigureAwait(false);
        var job = await ProvisionerJobLedger.InsertEndedAsync(
            connection, transaction,
            new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, version.Provisioner, ProvisionerTags.FromJson(version.Tags), "{}", version.FileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        var number = latest.Number + 1;
        await InsertBuildRowAsync(
            connection, transaction, workspace, Guid.CreateVersion7(), latest.VersionId, Delete, values, number, caller.Id, job.Id, latest.State, active: false, "orphan", null, cancellationToken).ConfigureAwait(false);

        // A job born ended fires no end trigger (JobEndEffects), so the delete's effect is written here, in the same transaction.
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE workspaces SET deleted = true, updated_at = now() WHERE id = @Id", new { workspace.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return number;
    }

    /// <summary>
    /// Records build n+1 with <paramref name="state"/> and no Terraform run (repairs, imports): its job is born
    /// succeeded, so the ledger still says who changed the state and when. Returns the build number.
    /// </summary>
    public async Task<int> ReplaceStateAsync(ApiUser caller, WorkspaceRecord workspace, byte[] state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(state);
        AccessPolicy.RequireReplaceState(caller, workspace.OwnerId, workspace.OwnerName, workspace.Name);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var (number, _) = await RecordStateBuildAsync(connection, transaction, caller, workspace, state, "state_override", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return number;
    }

    /// <summary>
    /// Makes an orphaned state (<see cref="WorkspaceStates"/>) the workspace's state: build n+1 records it like
    /// <see cref="ReplaceStateAsync"/>, and the orphan is marked restored by that build. The workspace's owner or an
    /// admin may: it is the owner's own build's state. Returns the build number.
    /// </summary>
    public async Task<int> RestoreOrphanedStateAsync(ApiUser caller, WorkspaceRecord workspace, Guid orphanId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        AccessPolicy.RequireChangeWorkspace(caller, workspace.OwnerId, workspace.OwnerName, workspace.Name);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var state = await WorkspaceStates.ReadOrphanAsync(connection, transaction, workspace.Id, orphanId, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Workspace '{workspace.Name}' has no orphaned state {orphanId}.");
        var (number, buildId) = await RecordStateBuildAsync(connection, transaction, caller, workspace, state, "orphan_restored", cancellationToken).ConfigureAwait(false);
        await WorkspaceStates.MarkRestoredAsync(connection, transaction, orphanId, buildId, caller.Id, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return number;
    }

    private async Task<(int Number, Guid BuildId)> RecordStateBuildAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ApiUser caller, WorkspaceRecord workspace, byte[] state, string reason, CancellationToken cancellationToken)
    {
        var latest = await LockAsync(connection, transaction, workspace, cancellationToken).ConfigureAwait(false);
        var values = await LoadValuesAsync(connection, transaction, latest.Id, cancellationToken).ConfigureAwait(false);
        var version = await TemplateVersionInputs.LoadVersionAsync(connection, transaction, latest.VersionId, cancellationToken).ConfigureAwait(false);

        // Nothing runs, so nothing is published: the ledger records a job that is born succeeded.
        var job = await ProvisionerJobLedger.InsertEndedAsync(
            connection, transaction,
            new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, version.Provisioner, ProvisionerTags.FromJson(version.Tags), "{}", version.FileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        var number = latest.Number + 1;
        var buildId = Guid.CreateVersion7();
        await InsertBuildRowAsync(
            connection, transaction, workspace, buildId, latest.VersionId, latest.Transition, values, number, caller.Id, job.Id, state, active: false, reason, null, cancellationToken).ConfigureAwait(false);
        return (number, buildId);
    }

    /// <summary>Locks the workspace row until the transaction ends and returns its latest build; 409 while a build is active, 404 when it was deleted meanwhile.</summary>
    private static async Task<LatestBuild> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, WorkspaceRecord workspace, CancellationToken cancellationToken)
    {
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT true FROM workspaces WHERE id = @Id AND NOT deleted FOR UPDATE", new { workspace.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!exists)
        {
            throw ApiProblemException.NotFound($"Workspace '{workspace.Name}' does not exist.");
        }

        var active = await connection.QuerySingleOrDefaultAsync<(int Number, string Status)>(new CommandDefinition(
            "SELECT b.build_number, j.status FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.workspace_id = @Id AND b.active",
            new { workspace.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (active.Status is not null)
        {
            throw ApiProblemException.Conflict(
                $"Workspace '{workspace.Name}' already has an active build (#{active.Number}, {active.Status}): wait for it to end or cancel its job, then try again.");
        }

        var row = await connection.QuerySingleAsync<(Guid Id, int Number, Guid VersionId, string Transition, byte[]? State)>(new CommandDefinition(
            """
            SELECT id, build_number, template_version_id, transition, provisioner_state
            FROM workspace_builds WHERE workspace_id = @Id ORDER BY build_number DESC LIMIT 1
            """,
            new { workspace.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new LatestBuild(row.Id, row.Number, row.VersionId, row.Transition, row.State);
    }

    /// <summary>Inserts build <paramref name="buildNumber"/> and its queued job; the row starts with <paramref name="previousState"/>, which only the daemon's report for this build replaces.</summary>
    private async Task InsertBuildAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        WorkspaceRecord workspace,
        ApiUser caller,
        Guid versionId,
        string transition,
        IReadOnlyDictionary<string, string> values,
        IReadOnlyDictionary<string, string> previousValues,
        Guid? presetId,
        int buildNumber,
        byte[]? previousState,
        CancellationToken cancellationToken)
    {
        var version = await TemplateVersionInputs.LoadVersionAsync(connection, transaction, versionId, cancellationToken).ConfigureAwait(false);
        var buildId = Guid.CreateVersion7();
        var build = new AcquiredJob.Types.WorkspaceBuild
        {
            WorkspaceBuildId = buildId.ToString(),
            WorkspaceName = workspace.Name,
            Metadata = new Sdk.Protocol.Metadata
            {
                WorkspaceTransition = transition switch
                {
                    Stop => WorkspaceTransition.Stop,
                    Delete => WorkspaceTransition.Destroy,
                    _ => WorkspaceTransition.Start,
                },
                WorkspaceName = workspace.Name,
                WorkspaceId = workspace.Id.ToString(),
                WorkspaceOwner = workspace.OwnerName,
                WorkspaceOwnerName = workspace.OwnerName,
                WorkspaceOwnerId = workspace.OwnerId.ToString(),
                WorkspaceOwnerEmail = workspace.OwnerEmail,
                TemplateId = workspace.TemplateId.ToString(),
                TemplateName = workspace.TemplateName,
                TemplateVersion = version.Name,
                WorkspaceBuildId = buildId.ToString(),
                WorkspaceBuildNumber = buildNumber,
            },
        };
        build.RichParameterValues.AddRange(values.Select(pair => new RichParameterValue { Name = pair.Key, Value = pair.Value }));
        build.PreviousParameterValues.AddRange(previousValues.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => new RichParameterValue { Name = pair.Key, Value = pair.Value }));
        build.VariableValues.AddRange(await TemplateVersionInputs.LoadVariablesAsync(connection, transaction, version.Id, cancellationToken).ConfigureAwait(false));
        if (previousState is { Length: > 0 })
        {
            // Content-addressed, so the daemon downloads it in chunks whatever its size.
            var hash = await FileStore.StoreBytesAsync(connection, transaction, previousState, "application/json", caller.Id, cancellationToken).ConfigureAwait(false);
            build.State = new Blob { File = new FileReference { Id = hash, Sha256 = hash, Size = previousState.Length } };
        }

        var job = await queue.Ledger.InsertAsync(
            connection,
            transaction,
            new NewProvisionerJob(
                ProvisionerJobType.WorkspaceBuild, version.Provisioner, ProvisionerTags.FromJson(version.Tags),
                ProvisionerJobInputs.ToInput(new AcquiredJob { WorkspaceBuild = build }), version.FileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        await InsertBuildRowAsync(
            connection, transaction, workspace, buildId, versionId, transition, values, buildNumber, caller.Id, job.Id, previousState, active: true, reason: "initiator", presetId, cancellationToken).ConfigureAwait(false);

        // In the same transaction: the job is in its queue exactly when the build exists.
        await queue.PublishAsync(connection, transaction, job, cancellationToken).ConfigureAwait(false);
    }

    private static async Task InsertBuildRowAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        WorkspaceRecord workspace,
        Guid buildId,
        Guid versionId,
        string transition,
        IReadOnlyDictionary<string, string> values,
        int buildNumber,
        Guid initiatorId,
        Guid jobId,
        byte[]? state,
        bool active,
        string reason,
        Guid? presetId,
        CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO workspace_builds (id, workspace_id, template_version_id, build_number, transition, initiator_id, job_id, provisioner_state, active, reason, template_version_preset_id)
            VALUES (@Id, @WorkspaceId, @VersionId, @Number, @Transition, @InitiatorId, @JobId, @State, @Active, @Reason, @PresetId)
            """,
            new
            {
                Id = buildId,
                WorkspaceId = workspace.Id,
                VersionId = versionId,
                Number = buildNumber,
                Transition = transition,
                InitiatorId = initiatorId,
                JobId = jobId,
                State = state,
                Active = active,
                Reason = reason,
                PresetId = presetId,
            },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO workspace_build_parameters (workspace_build_id, name, value) SELECT @Id, name, value FROM unnest(@Names::text[], @Values::text[]) AS p(name, value)",
            new { Id = buildId, Names = values.Keys.ToArray(), Values = values.Values.ToArray() },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyDictionary<string, string>> LoadValuesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid buildId, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<(string Name, string Value)>(new CommandDefinition(
            "SELECT name, value FROM workspace_build_parameters WHERE workspace_build_id = @Id",
            new { Id = buildId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDictionary(row => row.Name, row => row.Value, StringComparer.Ordinal);

    // The file store (the lead's item 8) will own `files`; until then the builder stores the state it hands over.
    /// <summary>The latest build of a workspace, as the next build needs it.</summary>
    private sealed record LatestBuild(Guid Id, int Number, Guid VersionId, string Transition, byte[]? State);
}
