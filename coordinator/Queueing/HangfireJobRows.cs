using System.Globalization;

using Dapper;

using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

using Npgsql;

using NpgsqlTypes;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// Writes the rows of Hangfire.PostgreSql's schema (job, state, jobqueue, counter) for provisioner jobs with
/// plain SQL, on the caller's connection and in the caller's transaction: the ledger change and its Hangfire
/// view commit together, in one round trip where possible. Hangfire's own client API needs a distributed
/// lock and two to four transactions per state change, which capped the queue at about 90 jobs/s on the
/// reference machine (docs/decisions/0001-hangfire-rows-in-ledger-transactions.md). The ledger row's lock
/// orders the writes for one job, so Hangfire's lock is not needed: every writer changes the ledger row first.
/// The rows are exactly what Hangfire.PostgreSql writes itself (schema version <see cref="SchemaVersion"/>,
/// checked at start), so the dashboard, the monitoring API and Hangfire's expiration manager read them unchanged.
/// </summary>
internal static class HangfireJobRows
{
    /// <summary>The Hangfire.PostgreSql schema version these statements were written and tested against.</summary>
    public const int SchemaVersion = 23;

    /// <summary>The channel the acquirer listens on; its payload is the queue name.</summary>
    public const string EnqueuedChannel = "provisioner_job_enqueued";

    /// <summary>The channel Hangfire.PostgreSql notifies when its own API enqueues (e.g. a requeue from the dashboard).</summary>
    public const string HangfireChannel = "new_job";

    /// <summary>How long an ended job stays visible in Hangfire (Hangfire's default job expiration).</summary>
    public static readonly TimeSpan EndedJobExpiration = TimeSpan.FromDays(1);

    internal const string Schema = HangfireStorageFactory.SchemaName;

    // Hangfire's serialized invocation of ProvisionerJobMarker.Run(id) differs between jobs only in the id:
    // serialized once (by Hangfire, for a placeholder id) and filled in per job, instead of building and
    // serializing an expression tree for every enqueue.
    private static readonly string MarkerPlaceholder = Guid.Empty.ToString();

    private static readonly Lazy<(string Data, string Arguments)> MarkerInvocation = new(() =>
    {
        var placeholder = Guid.Empty;
        var invocation = InvocationData.SerializeJob(Job.FromExpression<ProvisionerJobMarker>(marker => marker.Run(placeholder)));
        return (SerializationHelper.Serialize(invocation), invocation.Arguments);
    });

    // A Guid argument as Hangfire stores it: serialized to a JSON string, then that text in a JSON array.
    internal const string QuotedUuidPattern = "^\"[0-9a-fA-F-]{36}\"$";

    // One statement: the Hangfire job already in its Enqueued state, its queue entry, and the ledger's link
    // to it. Ids are drawn first so that the job can point at its state in the same statement.
    private static readonly string PublishSql = $"""
        WITH ids AS (
            SELECT nextval('{Schema}.job_id_seq') AS job_id, nextval('{Schema}.state_id_seq') AS state_id),
        job AS (
            INSERT INTO {Schema}.job (id, stateid, statename, invocationdata, arguments, createdat)
            SELECT job_id, state_id, '{EnqueuedState.StateName}', $1::jsonb, $2::jsonb, now() FROM ids),
        state AS (
            INSERT INTO {Schema}.state (id, jobid, name, reason, createdat, data)
            SELECT state_id, job_id, '{EnqueuedState.StateName}', $3, now(), $4::jsonb FROM ids),
        entry AS (
            INSERT INTO {Schema}.jobqueue (jobid, queue) SELECT job_id, $5 FROM ids)
        {ProvisionerJobLedger.LinkHangfireJobSql("ids.job_id", "$6")}
        """;

    // Puts an existing Hangfire job back in its queue (a claim undone): state, entry, no expiry.
    private static readonly string RequeueSql = $"""
        WITH state AS (
            INSERT INTO {Schema}.state (jobid, name, reason, createdat, data)
            SELECT id, '{EnqueuedState.StateName}', $2, now(), $3::jsonb FROM {Schema}.job WHERE id = $1
            RETURNING id, jobid),
        entry AS (
            INSERT INTO {Schema}.jobqueue (jobid, queue) SELECT jobid, $4 FROM state)
        UPDATE {Schema}.job SET stateid = state.id, statename = '{EnqueuedState.StateName}', expireat = NULL
        FROM state WHERE {Schema}.job.id = state.jobid
        """;

    // Final states of many jobs at once, with what Hangfire's state handlers and statistics filter add:
    // the expiry, and the succeeded/failed/deleted counters the dashboard's charts read. Jobs Hangfire has
    // already expired are skipped; their queue entries (a pending job canceled) are removed.
    private static readonly string EndSql = $"""
        WITH input AS (
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[]) AS i(jobid, name, reason, data)),
        removed AS (
            DELETE FROM {Schema}.jobqueue q USING input i WHERE q.jobid = i.jobid),
        state AS (
            INSERT INTO {Schema}.state (jobid, name, reason, createdat, data)
            SELECT i.jobid, i.name, i.reason, now(), i.data FROM input i JOIN {Schema}.job j ON j.id = i.jobid
            RETURNING id, jobid, name),
        counted AS (
            INSERT INTO {Schema}.counter (key, value, expireat)
            SELECT c.key, 1, c.expireat FROM state s CROSS JOIN LATERAL (VALUES
                ('stats:' || lower(s.name), NULL::timestamptz),
                ('stats:' || lower(s.name) || ':' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), now() + interval '30 days'),
                ('stats:' || lower(s.name) || ':' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD-HH24'), now() + interval '1 day')
            ) AS c(key, expireat)
            -- Hangfire counts succeeded and deleted jobs in total and succeeded and failed ones per day and hour.
            WHERE (s.name = '{SucceededState.StateName}')
               OR (s.name = '{DeletedState.StateName}' AND c.expireat IS NULL)
               OR (s.name = '{FailedState.StateName}' AND c.expireat IS NOT NULL))
        UPDATE {Schema}.job j SET stateid = state.id, statename = state.name, expireat = now() + $5
        FROM state WHERE j.id = state.jobid
        """;

    /// <summary>Fails with a clear message when Hangfire.PostgreSql's schema is not the one these statements were written for.</summary>
    public static void RequireCompatibleSchema(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        using var command = dataSource.CreateCommand($"SELECT max(version) FROM {Schema}.schema");
        var version = command.ExecuteScalar();
        if (version is not int found || found != SchemaVersion)
        {
            throw new InvalidOperationException(
                $"Hangfire's schema in \"{Schema}\" has version {(version is int number ? number.ToString(CultureInfo.InvariantCulture) : "none")}, but the coordinator writes its rows for version {SchemaVersion} "
                + "(Hangfire.PostgreSql 1.21). Use the Hangfire.PostgreSql version this coordinator was built with, "
                + "or update coordinator/Queueing/HangfireJobRows.cs for the new schema and its tests.");
        }
    }

    /// <summary>The command that creates the Enqueued Hangfire job of pending ledger job <paramref name="jobId"/> and links the ledger row to it.</summary>
    public static NpgsqlBatchCommand PublishCommand(Guid jobId, string queue)
    {
        var id = jobId.ToString();
        var command = new NpgsqlBatchCommand(PublishSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = MarkerInvocation.Value.Data.Replace(MarkerPlaceholder, id, StringComparison.Ordinal) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = MarkerInvocation.Value.Arguments.Replace(MarkerPlaceholder, id, StringComparison.Ordinal) });
        command.Parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StateData(new EnqueuedState(queue)) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queue });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = jobId });
        return command;
    }

    /// <summary>The command that notifies every replica's acquirer that <paramref name="queue"/> has a new entry (delivered at commit).</summary>
    public static NpgsqlBatchCommand NotifyCommand(string queue)
    {
        var command = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = EnqueuedChannel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queue });
        return command;
    }

    /// <summary>Publishes <paramref name="job"/> (see <see cref="PublishCommand"/>) in the caller's transaction; returns the Hangfire job id.</summary>
    public static async Task<string> PublishAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ProvisionerJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(PublishCommand(job.Id, job.Queue));
        batch.BatchCommands.Add(NotifyCommand(job.Queue));
        var id = await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToString(id, CultureInfo.InvariantCulture)
            ?? throw new InvalidOperationException($"Ledger job {job.Id} vanished while it was being enqueued.");
    }

    /// <summary>Puts the Hangfire job of a pending ledger job back in its queue (its claim was undone), in the caller's transaction.</summary>
    public static async Task RequeueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ProvisionerJob job, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(job);
        if (!TryParseId(job.HangfireJobId, out var hangfireJobId))
        {
            return;
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        var requeue = new NpgsqlBatchCommand(RequeueSql);
        requeue.Parameters.Add(new NpgsqlParameter<long> { TypedValue = hangfireJobId });
        requeue.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        requeue.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StateData(new EnqueuedState(job.Queue)) });
        requeue.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job.Queue });
        batch.BatchCommands.Add(requeue);
        batch.BatchCommands.Add(NotifyCommand(job.Queue));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves the Hangfire jobs of ended ledger jobs to the matching final state (Succeeded, Failed, or
    /// Deleted for canceled ones), in the caller's transaction. Jobs that have not ended or have no Hangfire job are skipped.
    /// </summary>
    public static async Task EndAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<ProvisionerJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(jobs);
        var ids = new List<long>();
        var names = new List<string>();
        var reasons = new List<string?>();
        var data = new List<string>();
        foreach (var job in jobs)
        {
            if (!job.Status.IsTerminal() || !TryParseId(job.HangfireJobId, out var hangfireJobId))
            {
                continue;
            }

            var state = EndedState(job);
            ids.Add(hangfireJobId);
            names.Add(state.Name);
            reasons.Add(state.Reason);
            data.Add(StateData(state));
        }

        if (ids.Count == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand(EndSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. ids] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. names] });
        command.Parameters.Add(new NpgsqlParameter { Value = reasons.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. data] });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = EndedJobExpiration });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The serialized data of a Processing state that shows <paramref name="daemon"/> as the server running the job.</summary>
    public static string ProcessingData(DaemonIdentity daemon) => StateData(new DaemonProcessingState(daemon.Name, daemon.Id));

    /// <summary>The state's data as Hangfire stores it (its own serializer and settings).</summary>
    public static string StateData(IState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return SerializationHelper.Serialize(state.SerializeData());
    }

    public static bool TryParseId(string? hangfireJobId, out long id) =>
        long.TryParse(hangfireJobId, NumberStyles.None, CultureInfo.InvariantCulture, out id);

    private static IState EndedState(ProvisionerJob job) => job.Status switch
    {
        ProvisionerJobStatus.Succeeded => new DaemonSucceededState((job.CompletedAt ?? job.UpdatedAt) - (job.StartedAt ?? job.CreatedAt)),
        ProvisionerJobStatus.Failed => new FailedState(new ProvisionerJobFailedException(job.Error ?? "failed")) { Reason = job.ErrorCode },
        _ => new DeletedState { Reason = "Canceled" },
    };
}
