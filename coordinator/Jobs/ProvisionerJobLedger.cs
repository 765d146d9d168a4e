using System.Collections.Concurrent;

using Dapper;

using Npgsql;

namespace Provisioning.Coordinator.Jobs;

/// <summary>
/// The job ledger (provisioner_jobs), the single source of truth about jobs. Every state change is one
/// conditional UPDATE, so concurrent callers on any replica cannot both win: a job is claimed by at most
/// one daemon, ended at most once, and only by the daemon that holds it. Methods that end a job also take
/// a connection and transaction, so that callers can store a job's results in the same transaction. Ending a job
/// has side effects that the database runs in the same statement (<see cref="JobEndEffects"/>).
/// </summary>
public sealed partial class ProvisionerJobLedger
{
    private const string CanceledCode = "canceled";

    private readonly NpgsqlDataSource _dataSource;

    // Queues are never deleted (jobs reference them), so one this process has seen exist needs no more
    // round trips: every enqueue would otherwise pay an INSERT ... ON CONFLICT for it.
    private readonly ConcurrentDictionary<string, ProvisionerQueue> _knownQueues = new(StringComparer.Ordinal);

    static ProvisionerJobLedger() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public ProvisionerJobLedger(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
    }

    /// <summary>The channel on which the database announces every new queue (migration 0003).</summary>
    public const string QueuesChannel = "provisioner_queues";

    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Raised when this process created a queue (a tag set no job had before), so that waiting daemons re-evaluate what they serve.</summary>
    public event Action? QueuesChanged;

    /// <summary>The queue of (provisioner, tags), created when it is new.</summary>
    public async Task<ProvisionerQueue> EnsureQueueAsync(string provisioner, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provisioner);
        var canonical = ProvisionerTags.Canonicalize(tags);
        var name = ProvisionerTags.QueueName(provisioner, canonical);
        if (_knownQueues.TryGetValue(name, out var known))
        {
            return known;
        }

        var queue = new ProvisionerQueue(name, provisioner, canonical);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var created = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO provisioner_queues (name, provisioner, tags) VALUES (@Name, @Provisioner, @Tags::jsonb) ON CONFLICT DO NOTHING",
            new { queue.Name, queue.Provisioner, Tags = ProvisionerTags.ToJson(canonical) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        _knownQueues.TryAdd(name, queue);
        if (created > 0)
        {
            QueuesChanged?.Invoke();
        }

        return queue;
    }

    public async Task<IReadOnlyList<ProvisionerQueue>> ListQueuesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Name, string Provisioner, string Tags)>(new CommandDefinition(
            "SELECT name, provisioner, tags::text FROM provisioner_queues ORDER BY name", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => new ProvisionerQueue(row.Name, row.Provisioner, ProvisionerTags.FromJson(row.Tags)))];
    }

    /// <summary>Inserts a pending job (creating its queue when new).</summary>
    public async Task<ProvisionerJob> InsertAsync(NewProvisionerJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await EnsureQueueAsync(job.Provisioner, job.Tags, cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await InsertAsync(connection, null, job, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts a pending job in the caller's transaction; its queue must exist (<see cref="EnsureQueueAsync"/>).</summary>
    public Task<ProvisionerJob> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewProvisionerJob job, CancellationToken cancellationToken = default) =>
        InsertRowAsync(connection, transaction, job, bornEnded: false, cancellationToken);

    /// <summary>
    /// Inserts a job that is born succeeded, in the caller's transaction: a change recorded without running anything
    /// (a state pushed or restored by hand), so the ledger still says who made it and when. Its queue must exist.
    /// </summary>
    public static Task<ProvisionerJob> InsertEndedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewProvisionerJob job, CancellationToken cancellationToken = default) =>
        InsertRowAsync(connection, transaction, job, bornEnded: true, cancellationToken);

    private static async Task<ProvisionerJob> InsertRowAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewProvisionerJob job, bool bornEnded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(job);
        var tags = ProvisionerTags.Canonicalize(job.Tags);
        var row = await connection.QuerySingleAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            INSERT INTO provisioner_jobs (id, type, provisioner, tags, queue, input, file_hash, initiator_id, completed_at)
            VALUES (@Id, @Type, @Provisioner, @Tags::jsonb, @Queue, @Input::jsonb, @FileHash, @InitiatorId, CASE WHEN @BornEnded THEN now() END)
            RETURNING {ProvisionerJobRow.Columns}
            """,
            new
            {
                job.Id,
                Type = job.Type.ToText(),
                job.Provisioner,
                Tags = ProvisionerTags.ToJson(tags),
                Queue = ProvisionerTags.QueueName(job.Provisioner, tags),
                job.Input,
                job.FileHash,
                job.InitiatorId,
                BornEnded = bornEnded,
            },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row.ToJob();
    }

    /// <summary>
    /// The insert of <see cref="InsertAsync(NpgsqlConnection, NpgsqlTransaction?, NewProvisionerJob, CancellationToken)"/> as a
    /// batch command (positional parameters), for callers that send it with other statements in one round
    /// trip; its result is read with <see cref="ReadJobAsync"/>. The job's queue must exist.
    /// </summary>
    public static NpgsqlBatchCommand InsertCommand(NewProvisionerJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var tags = ProvisionerTags.Canonicalize(job.Tags);
        var command = new NpgsqlBatchCommand(
            $"""
            INSERT INTO provisioner_jobs (id, type, provisioner, tags, queue, input, file_hash, initiator_id)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8)
            RETURNING {ProvisionerJobRow.Columns}
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = job.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job.Type.ToText() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job.Provisioner });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ProvisionerTags.ToJson(tags) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ProvisionerTags.QueueName(job.Provisioner, tags) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job.Input });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)job.FileHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)job.InitiatorId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        return command;
    }

    /// <summary>Reads the job row at the reader's current result (null when it has none).</summary>
    public static async Task<ProvisionerJob?> ReadJobAsync(NpgsqlDataReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return reader.GetRowParser<ProvisionerJobRow>()(reader).ToJob();
    }

    public async Task<ProvisionerJob?> GetAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await GetAsync(connection, null, jobId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Undoes a claim whose hand-over to the daemon failed (its stream went away): the job is pending again,
    /// or canceled when a user canceled it meanwhile. Null when the daemon no longer held it.
    /// </summary>
    public async Task<ProvisionerJob?> ReleaseAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReleaseAsync(connection, null, jobId, daemonId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ProvisionerJob?> ReleaseAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var row = await connection.QuerySingleOrDefaultAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            UPDATE provisioner_jobs SET
                started_at = CASE WHEN canceled_at IS NULL THEN NULL ELSE started_at END,
                worker_id = CASE WHEN canceled_at IS NULL THEN NULL ELSE worker_id END,
                completed_at = CASE WHEN canceled_at IS NULL THEN NULL ELSE now() END,
                error = CASE WHEN canceled_at IS NULL THEN NULL ELSE 'Canceled before a daemon started it.' END,
                error_code = CASE WHEN canceled_at IS NULL THEN NULL ELSE '{CanceledCode}' END,
                updated_at = now()
            WHERE id = @JobId AND worker_id = @DaemonId AND completed_at IS NULL
            RETURNING {ProvisionerJobRow.Columns}
            """,
            new { JobId = jobId, DaemonId = daemonId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToJob();
    }

    /// <summary>Records that the holding daemon is alive; says whether the job was canceled (or already ended by the coordinator, e.g. as hung).</summary>
    public async Task<JobHeartbeat> HeartbeatAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await HeartbeatAsync(connection, null, jobId, daemonId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<JobHeartbeat> HeartbeatAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var canceled = await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(
            """
            UPDATE provisioner_jobs SET updated_at = now()
            WHERE id = @JobId AND worker_id = @DaemonId AND completed_at IS NULL
            RETURNING canceled_at IS NOT NULL
            """,
            new { JobId = jobId, DaemonId = daemonId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (canceled is { } isCanceled)
        {
            return new JobHeartbeat(isCanceled);
        }

        // Not updated: unknown, someone else's, or already ended (then the daemon must stop working on it).
        await RequireOwnedAsync(connection, transaction, jobId, daemonId, cancellationToken).ConfigureAwait(false);
        return new JobHeartbeat(Canceled: true);
    }

    /// <summary>Ends a job as succeeded. Idempotent: a repeated report returns <see cref="CompletionOutcome.AlreadyCompleted"/>.</summary>
    public Task<JobCompletion> CompleteAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => CompleteAsync(connection, null, jobId, daemonId, cancellationToken), cancellationToken);

    public Task<JobCompletion> CompleteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, Guid daemonId, CancellationToken cancellationToken = default) =>
        EndAsync(connection, transaction, jobId, daemonId, error: null, errorCode: null, cancellationToken);

    /// <summary>Ends a job as failed (or canceled, when a user canceled it). Idempotent like <see cref="CompleteAsync(Guid, Guid, CancellationToken)"/>.</summary>
    public Task<JobCompletion> FailAsync(Guid jobId, Guid daemonId, string error, string? errorCode, CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => FailAsync(connection, null, jobId, daemonId, error, errorCode, cancellationToken), cancellationToken);

    public Task<JobCompletion> FailAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, Guid daemonId, string error, string? errorCode, CancellationToken cancellationToken = default) =>
        EndAsync(connection, transaction, jobId, daemonId, string.IsNullOrWhiteSpace(error) ? "The job failed without a message." : error, errorCode, cancellationToken);

    /// <summary>
    /// Cancels a job: a pending one ends at once (canceled); a running one becomes canceling, and its daemon
    /// learns it from its next heartbeat. An ended job is returned unchanged.
    /// </summary>
    public async Task<ProvisionerJob> CancelAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return (await CancelAsync(connection, null, jobId, cancellationToken).ConfigureAwait(false)).Job;
    }

    /// <summary>Cancels a job in the caller's transaction; <c>Changed</c> is false when it had ended or was canceled already.</summary>
    public async Task<(ProvisionerJob Job, bool Changed)> CancelAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var row = await connection.QuerySingleOrDefaultAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            UPDATE provisioner_jobs SET
                canceled_at = now(),
                updated_at = now(),
                completed_at = CASE WHEN started_at IS NULL THEN now() END,
                error = CASE WHEN started_at IS NULL THEN 'Canceled before a daemon started it.' END,
                error_code = CASE WHEN started_at IS NULL THEN '{CanceledCode}' END
            WHERE id = @JobId AND completed_at IS NULL AND canceled_at IS NULL
            RETURNING {ProvisionerJobRow.Columns}
            """,
            new { JobId = jobId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is not null)
        {
            return (row.ToJob(), true);
        }

        var job = await GetAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new ProvisionerJobNotFoundException(jobId);
        return (job, false);
    }

    /// <summary>
    /// Ends the jobs nobody will finish: running jobs whose daemon has not reported for
    /// <paramref name="hangTimeout"/> (failed, "daemon_timeout"), and pending jobs no daemon took within
    /// <paramref name="pendingTimeout"/> (failed, "pending_timeout"). Returns the jobs it ended.
    /// Both clocks run only while a coordinator was able to receive a report (<see cref="CoordinatorLiveness"/>'s
    /// intervals in coordinator_liveness): an outage of every coordinator, or of the database, longer than the
    /// timeout never makes a job look hung, because no daemon could have reported during it. Each ended job keeps
    /// its build's previous state (nothing is written to the build) and gets a log line saying why it ended.
    /// </summary>
    public async Task<IReadOnlyList<ProvisionerJob>> ReapAsync(TimeSpan hangTimeout, TimeSpan pendingTimeout, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReapAsync(connection, null, hangTimeout, pendingTimeout, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ProvisionerJob>> ReapAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, TimeSpan hangTimeout, TimeSpan pendingTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var window = (hangTimeout > pendingTimeout ? hangTimeout : pendingTimeout) + TimeSpan.FromHours(1);
        var hung = await connection.QueryAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            WITH {LivenessCte}
            UPDATE provisioner_jobs SET completed_at = now(), updated_at = now(), error_code = 'daemon_timeout',
                error = 'The daemon running this job stopped reporting for ' || @HangTimeout::text || ' while a coordinator was up to receive its reports; '
                        || 'the job was failed as hung and the workspace keeps its previous state. Check that daemon''s logs and connectivity.'
            FROM up
            WHERE started_at IS NOT NULL AND completed_at IS NULL AND updated_at < now() - @HangTimeout
              AND {CoveredSince("provisioner_jobs.updated_at")} >= @HangTimeout
            RETURNING {ProvisionerJobRow.QualifiedColumns("provisioner_jobs")}
            """,
            new { HangTimeout = hangTimeout, Window = window },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        var stale = await connection.QueryAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            WITH {LivenessCte}
            UPDATE provisioner_jobs SET completed_at = now(), updated_at = now(), error_code = 'pending_timeout',
                error = 'No daemon took this job within ' || @PendingTimeout::text || '. Start a daemon for provisioner "' || provisioner
                        || '" whose tags include ' || tags::text || ', then run the job again.'
            FROM up
            WHERE started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL AND created_at < now() - @PendingTimeout
              AND {CoveredSince("provisioner_jobs.created_at")} >= @PendingTimeout
            RETURNING {ProvisionerJobRow.QualifiedColumns("provisioner_jobs")}
            """,
            new { PendingTimeout = pendingTimeout, Window = window },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. hung.Concat(stale).Select(row => row.ToJob())];
    }

    // When coordinators were able to receive reports within the window: the union of every replica's intervals.
    private const string LivenessCte = """
        up AS (
            SELECT coalesce(range_agg(tstzrange(started_at, last_seen_at, '[]')), '{}'::tstzmultirange) AS covered
            FROM coordinator_liveness WHERE last_seen_at > now() - @Window)
        """;

    // How long coordinators were up between a job's timestamp and now.
    private static string CoveredSince(string column) =>
        $"(SELECT coalesce(sum(upper(r) - lower(r)), interval '0') FROM unnest(up.covered * tstzmultirange(tstzrange({column}, now(), '[]'))) AS r)";

    /// <summary>
    /// Locks the job row for a log append (so concurrent batches of one job get ids in commit order) and returns its
    /// log counters and whether it ended. The log lines themselves belong to JobLogWriter; these columns to the ledger.
    /// </summary>
    public static Task<(long LogsLength, bool Overflowed, bool Completed)> LockLogCountersAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, CancellationToken cancellationToken = default) =>
        connection.QuerySingleAsync<(long LogsLength, bool Overflowed, bool Completed)>(new CommandDefinition(
            "SELECT logs_length, logs_overflowed, completed_at IS NOT NULL FROM provisioner_jobs WHERE id = @JobId FOR UPDATE",
            new { JobId = jobId },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>Adds to a job's log counters: bytes stored, whether the cap was reached, and what the cap left out.</summary>
    public static Task AddLogCountersAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, long storedBytes, bool overflowed, long omittedLines, long omittedBytes, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE provisioner_jobs
            SET logs_length = logs_length + @StoredBytes, logs_overflowed = logs_overflowed OR @Overflowed,
                logs_omitted_lines = logs_omitted_lines + @OmittedLines, logs_omitted_bytes = logs_omitted_bytes + @OmittedBytes
            WHERE id = @JobId
            """,
            new { JobId = jobId, StoredBytes = storedBytes, Overflowed = overflowed, OmittedLines = omittedLines, OmittedBytes = omittedBytes },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>The jobs <paramref name="daemonId"/> holds that have not ended (the slots it uses).</summary>
    public async Task<IReadOnlyList<Guid>> ListUnfinishedAsync(Guid daemonId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var ids = await connection.QueryAsync<Guid>(new CommandDefinition(
            "SELECT id FROM provisioner_jobs WHERE worker_id = @DaemonId AND completed_at IS NULL",
            new { DaemonId = daemonId },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. ids];
    }

    /// <summary>Whether a terminal report of the holding daemon ended the job (false while it runs, and for a job reaped, canceled or revoked without one).</summary>
    public async Task<bool> WasReportedAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT reported_at IS NOT NULL FROM provisioner_jobs WHERE id = @JobId",
            new { JobId = jobId },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Removes daemons not seen for <paramref name="retention"/> that hold no unfinished job; returns how many.</summary>
    public async Task<int> RemoveStaleDaemonsAsync(TimeSpan retention, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM provisioner_daemons daemon
            WHERE daemon.last_seen_at < now() - @Retention
              AND NOT EXISTS (SELECT 1 FROM provisioner_jobs job WHERE job.worker_id = daemon.id AND job.completed_at IS NULL)
            """,
            new { Retention = retention },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the logs of jobs that ended more than <paramref name="retention"/> ago, in batches so no
    /// single statement holds locks for long; returns how many lines were deleted. The job keeps its
    /// <c>logs_length</c>, so a reader can tell logs were removed rather than never written.
    /// </summary>
    public async Task<long> DeleteExpiredLogsAsync(TimeSpan retention, int batchSize = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        long total = 0;
        while (true)
        {
            var deleted = await connection.ExecuteAsync(new CommandDefinition(
                """
                DELETE FROM provisioner_job_logs
                WHERE id IN (
                    SELECT log.id FROM provisioner_job_logs log
                    JOIN provisioner_jobs job ON job.id = log.job_id
                    WHERE job.completed_at < now() - @Retention
                    LIMIT @BatchSize)
                """,
                new { Retention = retention, BatchSize = batchSize },
                cancellationToken: cancellationToken)).ConfigureAwait(false);
            total += deleted;
            if (deleted < batchSize)
            {
                return total;
            }
        }
    }

    /// <summary>Pending jobs older than <paramref name="olderThan"/> that have no Hangfire job (their enqueue did not happen).</summary>
    public async Task<IReadOnlyList<ProvisionerJob>> ListUnpublishedAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            SELECT {ProvisionerJobRow.Columns} FROM provisioner_jobs
            WHERE hangfire_job_id IS NULL AND started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL
              AND created_at < now() - @OlderThan
            ORDER BY created_at
            """,
            new { OlderThan = olderThan },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => row.ToJob())];
    }

    private static async Task<ProvisionerJob?> GetAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<ProvisionerJobRow>(new CommandDefinition(
            $"SELECT {ProvisionerJobRow.Columns} FROM provisioner_jobs WHERE id = @JobId",
            new { JobId = jobId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToJob();
    }

    private static async Task<ProvisionerJob> RequireOwnedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, Guid daemonId, CancellationToken cancellationToken)
    {
        var job = await GetAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new ProvisionerJobNotFoundException(jobId);
        if (job.WorkerId != daemonId)
        {
            throw new ProvisionerJobOwnershipException(jobId, daemonId);
        }

        return job;
    }

    private static async Task<JobCompletion> EndAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, Guid daemonId, string? error, string? errorCode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var row = await connection.QuerySingleOrDefaultAsync<ProvisionerJobRow>(new CommandDefinition(
            $"""
            UPDATE provisioner_jobs SET completed_at = now(), reported_at = now(), updated_at = now(), error = @Error, error_code = @ErrorCode
            WHERE id = @JobId AND worker_id = @DaemonId AND completed_at IS NULL
            RETURNING {ProvisionerJobRow.Columns}
            """,
            new { JobId = jobId, DaemonId = daemonId, Error = error, ErrorCode = errorCode },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is not null)
        {
            return new JobCompletion(CompletionOutcome.Completed, row.ToJob());
        }

        var job = await RequireOwnedAsync(connection, transaction, jobId, daemonId, cancellationToken).ConfigureAwait(false);
        var reported = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT reported_at IS NOT NULL FROM provisioner_jobs WHERE id = @JobId", new { JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new JobCompletion(reported ? CompletionOutcome.AlreadyCompleted : CompletionOutcome.EndedWithoutReport, job);
    }

    private async Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, Task<T>> action, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await action(connection).ConfigureAwait(false);
    }
}
