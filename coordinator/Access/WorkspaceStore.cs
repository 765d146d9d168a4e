using Dapper;

using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Workspaces;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// Workspaces, their builds and states, for a caller: every method takes the caller and checks it
/// (<see cref="AccessPolicy"/>) before it reads or writes; writes go through the <see cref="WorkspaceBuilder"/>,
/// which checks again. A workspace is addressed by name among its owner's (the caller's, or <c>owner</c>).
/// </summary>
internal sealed class WorkspaceStore(NpgsqlDataSource dataSource, WorkspaceBuilder builder, IOptions<CoordinatorOptions> options)
{
    private const string SelectWorkspace =
        """
        SELECT w.id, w.name, w.owner_id, u.username, u.email, w.template_id, t.name, w.created_at
        FROM workspaces w JOIN users u ON u.id = w.owner_id JOIN templates t ON t.id = w.template_id
        """;

    private TimeSpan OfflineAfter => options.Value.JobHangTimeout;

    public async Task<WorkspaceResponse> CreateAsync(
        ApiUser caller, string? name, string? template, IReadOnlyList<KeyValuePair<string, string>>? parameters, string? preset = null, CancellationToken cancellationToken = default)
    {
        await builder.CreateWorkspaceAsync(caller, name, template, parameters, preset, cancellationToken).ConfigureAwait(false);
        return await GetAsync(caller, name!.Trim(), null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<WorkspaceResponse>> ListAsync(ApiUser caller, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(Guid, string, Guid, string, string, Guid, string, DateTime)>(new CommandDefinition(
            $"""
            {SelectWorkspace}
            WHERE NOT w.deleted AND {AccessPolicy.WorkspaceVisibleSql} AND (@Owner::text IS NULL OR lower(u.username) = lower(@Owner))
            ORDER BY u.username, w.name
            """,
            new { SeesAll = AccessPolicy.SeesEveryWorkspace(caller), UserId = caller.Id, Owner = owner }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var result = new List<WorkspaceResponse>();
        foreach (var row in rows)
        {
            var workspace = ToRecord(row);
            AccessPolicy.RequireReadWorkspace(caller, workspace.OwnerId, workspace.Name);
            result.Add(await ToResponseAsync(connection, workspace, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    public async Task<WorkspaceResponse> GetAsync(ApiUser caller, string name, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        return await ToResponseAsync(connection, workspace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues a build (the builder checks that the caller may change the workspace); returns it.</summary>
    public async Task<BuildResponse> BuildAsync(
        ApiUser caller,
        string name,
        string? owner,
        string transition,
        IReadOnlyList<KeyValuePair<string, string>>? parameters,
        string? templateVersion,
        string? preset = null,
        bool orphan = false,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var number = await builder.BuildAsync(caller, workspace, transition, parameters, templateVersion, preset, orphan, cancellationToken).ConfigureAwait(false);
        return (await LoadBuildsAsync(connection, workspace, number, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Records a state by hand (the builder checks that the caller may); returns the new build.</summary>
    public async Task<BuildResponse> ReplaceStateAsync(ApiUser caller, string name, string? owner, byte[] state, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var number = await builder.ReplaceStateAsync(caller, workspace, state, cancellationToken).ConfigureAwait(false);
        return (await LoadBuildsAsync(connection, workspace, number, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>The 403 a caller gets for recording a state, decided before its body is read (a refused upload is not buffered); 404 when it cannot see the workspace.</summary>
    public async Task RequireReplaceStateAsync(ApiUser caller, string name, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        AccessPolicy.RequireReplaceState(caller, workspace.OwnerId, workspace.OwnerName, workspace.Name);
    }

    public async Task<IReadOnlyList<BuildResponse>> ListBuildsAsync(ApiUser caller, string name, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        return await LoadBuildsAsync(connection, workspace, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BuildResponse> GetBuildAsync(ApiUser caller, string name, int number, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var builds = await LoadBuildsAsync(connection, workspace, number, cancellationToken).ConfigureAwait(false);
        return builds.Count == 1 ? builds[0] : throw ApiProblemException.NotFound($"Workspace '{name}' has no build #{number}.");
    }

    /// <summary>The timings build <paramref name="number"/>'s daemon reported (none while it runs, or when it ended without a report).</summary>
    public async Task<BuildTimingsResponse> GetBuildTimingsAsync(ApiUser caller, string name, int number, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var jobId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT job_id FROM workspace_builds WHERE workspace_id = @Id AND build_number = @Number",
            new { workspace.Id, Number = number }, cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Workspace '{name}' has no build #{number}.");
        var rows = (await connection.QueryAsync<(string Stage, string Source, string Action, string Resource, string State, DateTime StartedAt, DateTime EndedAt)>(new CommandDefinition(
            "SELECT stage, source, action, resource, state, started_at, ended_at FROM provisioner_job_timings WHERE job_id = @JobId ORDER BY started_at, id",
            new { JobId = jobId }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var timings = rows.Select(row => new TimingResponse(
            row.Stage, row.Source, row.Action, row.Resource, row.State, row.StartedAt, row.EndedAt, Math.Max(0, (row.EndedAt - row.StartedAt).TotalSeconds))).ToList();
        return new BuildTimingsResponse(number, jobId, [.. timings.Where(timing => timing.Resource.Length == 0)], [.. timings.Where(timing => timing.Resource.Length > 0)]);
    }

    /// <summary>The state of build <paramref name="number"/> (empty when it has none); state is as private as the workspace (invariant 6).</summary>
    public async Task<byte[]> GetStateAsync(ApiUser caller, string name, int number, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var build = await connection.QuerySingleOrDefaultAsync<(Guid Id, byte[]? State)>(new CommandDefinition(
            "SELECT id, provisioner_state FROM workspace_builds WHERE workspace_id = @Id AND build_number = @Number",
            new { workspace.Id, Number = number }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return build.Id == Guid.Empty ? throw ApiProblemException.NotFound($"Workspace '{name}' has no build #{number}.") : build.State ?? [];
    }

    /// <summary>The workspace's orphaned states (<see cref="WorkspaceStates"/>): as readable as its state.</summary>
    public async Task<IReadOnlyList<OrphanedStateResponse>> ListOrphanedStatesAsync(ApiUser caller, string name, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var orphans = await WorkspaceStates.ListOrphansAsync(connection, workspace.Id, cancellationToken).ConfigureAwait(false);
        return [.. orphans.Select(orphan => new OrphanedStateResponse(
            orphan.Id, orphan.BuildNumber, orphan.JobId, orphan.Size, orphan.Reason, orphan.CreatedAt, orphan.RestoredAt, orphan.RestoredBuildNumber))];
    }

    public async Task<byte[]> GetOrphanedStateAsync(ApiUser caller, string name, Guid orphanId, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        return await WorkspaceStates.ReadOrphanAsync(connection, null, workspace.Id, orphanId, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Workspace '{name}' has no orphaned state {orphanId}.");
    }

    /// <summary>Restores an orphaned state as a new build (the builder checks that the caller may change the workspace); returns the build.</summary>
    public async Task<BuildResponse> RestoreOrphanedStateAsync(ApiUser caller, string name, Guid orphanId, string? owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var number = await builder.RestoreOrphanedStateAsync(caller, workspace, orphanId, cancellationToken).ConfigureAwait(false);
        return (await LoadBuildsAsync(connection, workspace, number, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>The workspace named <paramref name="name"/> of <paramref name="owner"/> (default: the caller), if the caller may see it; 404 otherwise.</summary>
    private static async Task<WorkspaceRecord> RequireAsync(NpgsqlConnection connection, ApiUser caller, string name, string? owner, CancellationToken cancellationToken)
    {
        var ownerName = string.IsNullOrWhiteSpace(owner) ? caller.Username : owner.Trim();
        var row = await connection.QuerySingleOrDefaultAsync<(Guid Id, string, Guid, string, string, Guid, string, DateTime)>(new CommandDefinition(
            $"{SelectWorkspace} WHERE NOT w.deleted AND lower(w.name) = lower(@Name) AND lower(u.username) = lower(@Owner)",
            new { Name = name, Owner = ownerName }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.Id == Guid.Empty)
        {
            throw ApiProblemException.NotFound($"Workspace '{name}' does not exist.");
        }

        var workspace = ToRecord(row);
        AccessPolicy.RequireReadWorkspace(caller, workspace.OwnerId, workspace.Name);
        return workspace;
    }

    private async Task<WorkspaceResponse> ToResponseAsync(NpgsqlConnection connection, WorkspaceRecord workspace, CancellationToken cancellationToken)
    {
        var builds = await LoadBuildsAsync(connection, workspace, null, cancellationToken, limit: 1).ConfigureAwait(false);
        var latest = builds[0];
        // The resources are those of the build whose daemon reported the workspace's current state: a build that ended
        // without a report (canceled while pending, reaped) changed nothing, so it must not show an empty workspace.
        var resourcesJob = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            """
            SELECT job_id FROM workspace_builds
            WHERE workspace_id = @Id AND (state_reported_at IS NOT NULL OR build_number = @Latest)
            ORDER BY (state_reported_at IS NOT NULL) DESC, build_number DESC LIMIT 1
            """,
            new { workspace.Id, Latest = latest.BuildNumber }, cancellationToken: cancellationToken)).ConfigureAwait(false) ?? latest.Job.Id;
        var resources = await WorkspaceResources.LoadAsync(connection, resourcesJob, cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        var orphans = await WorkspaceStates.CountOpenOrphansAsync(connection, workspace.Id, cancellationToken).ConfigureAwait(false);
        if (orphans > 0)
        {
            warnings.Add($"{orphans} Terraform state(s) arrived after their build had ended while a newer build existed; they are kept as orphaned states. "
                + $"Check them with `provisioning state orphans {workspace.Name}` and restore the right one, or resources may exist that this workspace's state does not name.");
        }

        return new WorkspaceResponse(workspace.Id, workspace.Name, workspace.OwnerId, workspace.OwnerName, workspace.TemplateId, workspace.TemplateName, workspace.CreatedAt, latest, resources, warnings);
    }

    private async Task<IReadOnlyList<BuildResponse>> LoadBuildsAsync(
        NpgsqlConnection connection, WorkspaceRecord workspace, int? number, CancellationToken cancellationToken, int limit = 1000)
    {
        var rows = (await connection.QueryAsync<(Guid Id, int Number, string Transition, Guid VersionId, string VersionName, Guid? InitiatorId, string Reason, bool HasState, DateTime CreatedAt, Guid JobId, bool HasExternalAgents)>(new CommandDefinition(
            """
            SELECT b.id, b.build_number, b.transition, b.template_version_id, v.name, b.initiator_id, b.reason,
                   coalesce(octet_length(b.provisioner_state), 0) > 0, b.created_at, b.job_id, v.has_external_agents
            FROM workspace_builds b JOIN template_versions v ON v.id = b.template_version_id
            WHERE b.workspace_id = @Id AND (@Number::int IS NULL OR b.build_number = @Number)
            ORDER BY b.build_number DESC LIMIT @Limit
            """,
            new { workspace.Id, Number = number, Limit = limit }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var jobs = await JobViews.GetManyAsync(connection, [.. rows.Select(row => row.JobId)], OfflineAfter, cancellationToken).ConfigureAwait(false);
        var parameters = (await connection.QueryAsync<(Guid BuildId, string Name, string Value)>(new CommandDefinition(
            "SELECT workspace_build_id, name, value FROM workspace_build_parameters WHERE workspace_build_id = ANY(@Ids) ORDER BY name",
            new { Ids = rows.Select(row => row.Id).ToArray() }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.BuildId);
        return [.. rows.Select(row => new BuildResponse(
            row.Id, workspace.Id, workspace.Name, row.Number, row.Transition, row.VersionId, row.VersionName, row.InitiatorId, row.Reason, row.HasState, row.CreatedAt,
            jobs[row.JobId], [.. parameters[row.Id].Select(parameter => new ParameterValueResponse(parameter.Name, parameter.Value))], row.HasExternalAgents))];
    }

    private static WorkspaceRecord ToRecord((Guid Id, string Name, Guid OwnerId, string OwnerName, string OwnerEmail, Guid TemplateId, string TemplateName, DateTime CreatedAt) row) =>
        new(row.Id, row.Name, row.OwnerId, row.OwnerName, row.OwnerEmail, row.TemplateId, row.TemplateName, row.CreatedAt);
}
