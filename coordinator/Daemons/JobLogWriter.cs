using System.Text;

using Dapper;

using Npgsql;

using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// Appends a job's log lines in order, under a per-job byte cap: lines past the cap are dropped and the job
/// is marked logs_overflowed, which never fails the build (invariant 5). The job row is locked for the
/// append, so concurrent batches of one job get increasing ids in the order they commit.
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

        var state = await connection.QuerySingleAsync<(long LogsLength, bool Completed)>(new CommandDefinition(
            "SELECT logs_length, completed_at IS NOT NULL FROM provisioner_jobs WHERE id = @JobId FOR UPDATE",
            new { JobId = jobId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (state.Completed)
        {
            // A late batch of a job that already ended (e.g. reaped as hung): its log is closed.
            return 0;
        }

        var length = state.LogsLength;
        var createdAt = new List<DateTime>();
        var sources = new List<string>();
        var levels = new List<string>();
        var stages = new List<string>();
        var outputs = new List<string>();
        var overflowed = false;
        foreach (var log in logs)
        {
            var size = Encoding.UTF8.GetByteCount(log.Output);
            if (length + size > maxBytes)
            {
                overflowed = true;
                break;
            }

            length += size;
            createdAt.Add(log.CreatedAt is { } timestamp ? timestamp.ToDateTime() : DateTime.UtcNow);
            sources.Add(log.Source == LogSource.Provisioner ? "provisioner" : "provisioner_daemon");
            levels.Add(log.Level.ToString().ToLowerInvariant());
            stages.Add(log.Stage);
            outputs.Add(log.Output.Replace("\0", string.Empty, StringComparison.Ordinal));
        }

        if (createdAt.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, output)
                SELECT @JobId, line.created_at, line.source, line.level, line.stage, line.output
                FROM unnest(@CreatedAt::timestamptz[], @Sources::text[], @Levels::text[], @Stages::text[], @Outputs::text[])
                     WITH ORDINALITY AS line(created_at, source, level, stage, output, position)
                ORDER BY line.position
                """,
                new { JobId = jobId, CreatedAt = createdAt.ToArray(), Sources = sources.ToArray(), Levels = levels.ToArray(), Stages = stages.ToArray(), Outputs = outputs.ToArray() },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE provisioner_jobs SET logs_length = @Length, logs_overflowed = logs_overflowed OR @Overflowed WHERE id = @JobId;
            SELECT pg_notify(@Channel, @JobId::text);
            """,
            new { JobId = jobId, Length = length, Overflowed = overflowed, Channel = NotifyChannel },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return createdAt.Count;
    }

    /// <summary>
    /// Appends one line the coordinator itself writes into a job's log (why the reaper failed it, what became of a
    /// late report), even when the job has ended and past the cap: such a line explains the job's end and is never
    /// left out. Stage "Coordinator", source provisioner_daemon (the log's sources are the daemon side and the provisioner).
    /// </summary>
    public static Task AppendNoticeAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid jobId, string level, string output, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO provisioner_job_logs (job_id, source, level, stage, output) VALUES (@JobId, 'provisioner_daemon', @Level, 'Coordinator', @Output);
            UPDATE provisioner_jobs SET logs_length = logs_length + octet_length(@Output) WHERE id = @JobId;
            SELECT pg_notify(@Channel, @JobId::text);
            """,
            new { JobId = jobId, Level = level, Output = output, Channel = NotifyChannel },
            transaction,
            cancellationToken: cancellationToken));
}
