using Dapper;

using Npgsql;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// The one writer of a build's Terraform state once the build exists (invariant 3 of docs/architecture.md): a build
/// starts with its predecessor's state (the workspace builder copies it), and only a state that a daemon
/// reported for that build replaces it — on success, failure or cancel, partial states included. A state that
/// arrives after its job already ended (reaped, released, canceled while its daemon was away) is never thrown
/// away: it is recorded on the build while that build is still the workspace's latest, and otherwise kept as an
/// orphaned state (workspace_orphaned_states) that an operator can list and restore.
/// </summary>
public static class WorkspaceStates
{
    /// <summary>
    /// Records <paramref name="state"/>, reported by <paramref name="daemonId"/> for the build of <paramref name="jobId"/>,
    /// in the caller's transaction. <paramref name="endedByThisReport"/> says whether the report itself ended the job
    /// (the normal case) or arrived after the job had ended. An empty or missing state changes nothing: the build
    /// keeps the state it started with.
    /// </summary>
    public static async Task<StateRecordOutcome> RecordReportedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, Guid daemonId, byte[]? state, bool endedByThisReport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var build = await connection.QuerySingleOrDefaultAsync<BuildRow>(new CommandDefinition(
            """
            SELECT b.id AS "Id", b.workspace_id AS "WorkspaceId", b.build_number AS "BuildNumber", b.state_reported_at IS NOT NULL AS "StateReported",
                   NOT EXISTS (SELECT 1 FROM workspace_builds newer WHERE newer.workspace_id = b.workspace_id AND newer.build_number > b.build_number) AS "IsLatest"
            FROM workspace_builds b WHERE b.job_id = @JobId
            FOR UPDATE OF b
            """,
            new { JobId = jobId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (build is null)
        {
            // Not a workspace build (an import or a dry run): no state to keep.
            return StateRecordOutcome.NoState;
        }

        if (state is not { Length: > 0 })
        {
            return endedByThisReport ? StateRecordOutcome.NoState : StateRecordOutcome.LateNoState;
        }

        if (endedByThisReport)
        {
            await SetAsync(connection, transaction, build.Id, state, cancellationToken).ConfigureAwait(false);
            return StateRecordOutcome.Recorded;
        }

        if (build.StateReported)
        {
            // A repeated report (its answer was lost): the state is stored already.
            return StateRecordOutcome.AlreadyRecorded;
        }

        if (build.IsLatest)
        {
            await SetAsync(connection, transaction, build.Id, state, cancellationToken).ConfigureAwait(false);
            return StateRecordOutcome.LateRecorded;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO workspace_orphaned_states (workspace_id, workspace_build_id, job_id, daemon_id, state, reason)
            VALUES (@WorkspaceId, @BuildId, @JobId, @DaemonId, @State,
                    'Build #' || @Number || ' reported its state after its job had ended, and a newer build existed by then.')
            ON CONFLICT (job_id) DO NOTHING
            """,
            new { build.WorkspaceId, BuildId = build.Id, JobId = jobId, DaemonId = daemonId, State = state, Number = build.BuildNumber },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return StateRecordOutcome.LateOrphaned;
    }

    /// <summary>The orphaned states of a workspace, newest first (restored ones included, marked).</summary>
    public static async Task<IReadOnlyList<OrphanedState>> ListOrphansAsync(NpgsqlConnection connection, Guid workspaceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var rows = await connection.QueryAsync<OrphanedState>(new CommandDefinition(
            """
            SELECT o.id AS "Id", o.workspace_id AS "WorkspaceId", o.job_id AS "JobId", b.build_number AS "BuildNumber", octet_length(o.state) AS "Size",
                   o.reason AS "Reason", o.created_at AS "CreatedAt", o.restored_at AS "RestoredAt", r.build_number AS "RestoredBuildNumber"
            FROM workspace_orphaned_states o
            JOIN workspace_builds b ON b.id = o.workspace_build_id
            LEFT JOIN workspace_builds r ON r.id = o.restored_build_id
            WHERE o.workspace_id = @WorkspaceId
            ORDER BY o.created_at DESC
            """,
            new { WorkspaceId = workspaceId },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows];
    }

    /// <summary>The bytes of an orphaned state of <paramref name="workspaceId"/>; null when it has no such orphan.</summary>
    public static Task<byte[]?> ReadOrphanAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid workspaceId, Guid orphanId, CancellationToken cancellationToken = default) =>
        connection.ExecuteScalarAsync<byte[]?>(new CommandDefinition(
            "SELECT state FROM workspace_orphaned_states WHERE id = @Id AND workspace_id = @WorkspaceId",
            new { Id = orphanId, WorkspaceId = workspaceId },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>Marks an orphan restored by build <paramref name="buildId"/> (which carries its state).</summary>
    public static Task MarkRestoredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orphanId, Guid buildId, Guid restoredBy, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE workspace_orphaned_states SET restored_at = now(), restored_build_id = @BuildId, restored_by = @RestoredBy WHERE id = @Id",
            new { Id = orphanId, BuildId = buildId, RestoredBy = restoredBy },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>How many orphaned states of the workspace nobody restored yet (the workspace shows a warning while there are any).</summary>
    public static Task<int> CountOpenOrphansAsync(NpgsqlConnection connection, Guid workspaceId, CancellationToken cancellationToken = default) =>
        connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*)::int FROM workspace_orphaned_states WHERE workspace_id = @WorkspaceId AND restored_at IS NULL",
            new { WorkspaceId = workspaceId },
            cancellationToken: cancellationToken));

    private static Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid buildId, byte[] state, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "UPDATE workspace_builds SET provisioner_state = @State, state_reported_at = now(), updated_at = now() WHERE id = @Id",
            new { Id = buildId, State = state },
            transaction,
            cancellationToken: cancellationToken));

    private sealed record BuildRow(Guid Id, Guid WorkspaceId, int BuildNumber, bool StateReported, bool IsLatest);
}
