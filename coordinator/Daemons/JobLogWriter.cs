using System.Text;

using Dapper;

using Npgsql;
using NpgsqlTypes;

using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// Appends a job's log lines in order, under a per-job byte cap (<see cref="CoordinatorOptions.MaxJobLogBytes"/>):
/// from the first line that does not fit, every later line of the job is left out and counted, the job is
/// marked logs_overflowed, and the transaction that ends the job adds one line saying how many lines and
/// bytes were left out (<see cref="AppendOmittedSummaryAsync"/>). The cap never fails the build (invariant 5).
/// The job row is locked for the append, so concurrent batches of one job get increasing ids in the order
/// they commit. See docs/decisions/0004-daemon-holds-reports-and-logs.md.
/// </summary>
internal static class JobLogWriter
{
    public const string NotifyChannel = "provisioner_job_logs";

    /// <summary>Appends what fits; returns how many lines were stored.</summary>
    public static async Task<int> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, IReadOnlyList<Log> logs, long maxBytes, CancellationToken cancellationToken)
    {
        if (logs.Count == 0)
        {
            return 0;
        }

        var state = await ProvisionerJobLedger.LockLogCountersAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false);
        if (state.Completed)
        {
            // A late batch of a job that already ended (e.g. reaped as hung): its log is closed.
            return 0;
        }

        var length = state.LogsLength;
        // Once a line did not fit, no later line is stored either: the stored log stays a prefix of what
        // the daemon sent, and the summary line at the end accounts for the rest.
        var overflowed = state.Overflowed;
        long omittedLines = 0;
        long omittedBytes = 0;
        var stored = 0;
        foreach (var log in logs)
        {
            var size = Encoding.UTF8.GetByteCount(log.Output);
            if (overflowed || length + size > maxBytes)
            {
                overflowed = true;
                omittedLines++;
                omittedBytes += size;
                continue;
            }

            length += size;
            stored++;
        }

        if (stored > 0)
        {
            await CopyAsync(connection, jobId, logs, stored, cancellationToken).ConfigureAwait(false);
        }

        await ProvisionerJobLedger.AddLogCountersAsync(connection, transaction, jobId, length - state.LogsLength, overflowed, omittedLines, omittedBytes, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_notify(@Channel, @JobId::text)", new { JobId = jobId, Channel = NotifyChannel }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return stored;
    }

    /// <summary>
    /// Writes the first <paramref name="count"/> of <paramref name="logs"/> with binary COPY, inside the caller's
    /// transaction: one round trip and no statement to parse or plan, whatever the batch size (a multi-row insert
    /// was the log path's limit; docs/decisions/0008-performance-where-users-feel-it.md). COPY assigns the
    /// bigserial ids in row order, so the lines keep their order.
    /// </summary>
    private static async Task CopyAsync(NpgsqlConnection connection, Guid jobId, IReadOnlyList<Log> logs, int count, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        var importer = await connection.BeginBinaryImportAsync(
            "COPY provisioner_job_logs (job_id, created_at, source, level, stage, output) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            for (var i = 0; i < count; i++)
            {
                var log = logs[i];
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(jobId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(log.CreatedAt is { } timestamp ? timestamp.ToDateTime() : now, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(log.Source == LogSource.Provisioner ? "provisioner" : "provisioner_daemon", NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(LevelText(log.Level), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await importer.WriteAsync(log.Stage, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                // PostgreSQL text cannot hold NUL.
                await importer.WriteAsync(log.Output.Contains('\0', StringComparison.Ordinal) ? log.Output.Replace("\0", string.Empty, StringComparison.Ordinal) : log.Output, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The stored level name (the enum's name in lower case), without formatting an enum per line.</summary>
    private static string LevelText(Provisioning.Sdk.Protocol.LogLevel level) => level switch
    {
        Provisioning.Sdk.Protocol.LogLevel.Trace => "trace",
        Provisioning.Sdk.Protocol.LogLevel.Debug => "debug",
        Provisioning.Sdk.Protocol.LogLevel.Info => "info",
        Provisioning.Sdk.Protocol.LogLevel.Warn => "warn",
        Provisioning.Sdk.Protocol.LogLevel.Error => "error",
        _ => level.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Appends one line the coordinator itself writes into a job's log (why the reaper failed it, what became of a
    /// late report), even when the job has ended and past the cap: such a line explains the job's end and is never
    /// left out. Stage "Coordinator", source provisioner_daemon (the log's sources are the daemon side and the provisioner).
    /// </summary>
    public static async Task AppendNoticeAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, string level, string output, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO provisioner_job_logs (job_id, source, level, stage, output) VALUES (@JobId, 'provisioner_daemon', @Level, 'Coordinator', @Output);
            SELECT pg_notify(@Channel, @JobId::text);
            """,
            new { JobId = jobId, Level = level, Output = output, Channel = NotifyChannel },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await ProvisionerJobLedger.AddLogCountersAsync(connection, transaction, jobId, Encoding.UTF8.GetByteCount(output), overflowed: false, 0, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the log of each job in <paramref name="jobIds"/> that left lines out with one warning line saying how
    /// many lines and bytes the cap left out. Call it in the transaction that ends the jobs, so the line is
    /// written exactly once, after every stored line (later batches of an ended job are refused).
    /// </summary>
    public static Task AppendOmittedSummaryAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, CancellationToken cancellationToken) =>
        AppendOmittedSummaryAsync(connection, transaction, [jobId], cancellationToken);

    /// <inheritdoc cref="AppendOmittedSummaryAsync(NpgsqlConnection, NpgsqlTransaction?, Guid, CancellationToken)"/>
    public static async Task AppendOmittedSummaryAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<Guid> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        if (jobIds.Count == 0)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            WITH summarized AS (
                INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, output)
                SELECT job.id, now(), 'provisioner_daemon', 'warn',
                       coalesce((SELECT log.stage FROM provisioner_job_logs log WHERE log.job_id = job.id ORDER BY log.id DESC LIMIT 1), ''),
                       format('%s log lines (%s bytes) were left out: this job''s log reached the coordinator''s per-job cap (provisioning server --max-job-log-size) after %s bytes.',
                              job.logs_omitted_lines, job.logs_omitted_bytes, job.logs_length)
                FROM provisioner_jobs job
                WHERE job.id = ANY(@JobIds) AND job.logs_omitted_lines > 0
                RETURNING job_id
            )
            SELECT pg_notify(@Channel, job_id::text) FROM summarized
            """,
            new { JobIds = jobIds.ToArray(), Channel = NotifyChannel },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }
}
