using Dapper;

using Npgsql;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Api.Jobs;

/// <summary>
/// Reads jobs for the API: status, queue position and size (among the pending jobs of the same queue, oldest
/// first), and why a pending job waits, judged against the daemons that are online now. The read model of the
/// data-access layer (Access/): only it calls these, after checking the caller.
/// </summary>
internal static class JobViews
{
    private const string Select =
        """
        SELECT j.id, j.type, j.status, j.provisioner, j.tags::text AS tags, j.created_at, j.started_at, j.canceled_at, j.completed_at,
               j.error, j.error_code, j.worker_id, j.logs_overflowed,
               CASE WHEN j.status = 'pending' THEN (
                   SELECT count(*) FROM provisioner_jobs p
                   WHERE p.queue = j.queue AND p.started_at IS NULL AND p.completed_at IS NULL AND p.canceled_at IS NULL
                     AND (p.created_at, p.id) <= (j.created_at, j.id))::int END AS queue_position,
               CASE WHEN j.status = 'pending' THEN (
                   SELECT count(*) FROM provisioner_jobs p
                   WHERE p.queue = j.queue AND p.started_at IS NULL AND p.completed_at IS NULL AND p.canceled_at IS NULL)::int END AS queue_size
        FROM provisioner_jobs j
        """;

    /// <summary>The job, when <paramref name="caller"/> may see it (<see cref="AccessPolicy.JobVisibleSql"/>); null otherwise.</summary>
    public static async Task<JobResponse?> GetAsync(NpgsqlConnection connection, Guid jobId, ApiUser caller, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        var jobs = await ListAsync(
            connection,
            $"WHERE j.id = @JobId AND {AccessPolicy.JobVisibleSql}",
            new { JobId = jobId, SeesAll = AccessPolicy.SeesEveryWorkspace(caller), UserId = caller.Id },
            offlineAfter,
            cancellationToken).ConfigureAwait(false);
        return jobs.Count == 0 ? null : jobs[0];
    }

    /// <summary>Jobs by id, without a visibility check (the caller checked the object the jobs belong to).</summary>
    public static async Task<IReadOnlyDictionary<Guid, JobResponse>> GetManyAsync(NpgsqlConnection connection, IReadOnlyCollection<Guid> jobIds, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        if (jobIds.Count == 0)
        {
            return new Dictionary<Guid, JobResponse>();
        }

        var jobs = await ListAsync(connection, "WHERE j.id = ANY(@JobIds)", new { JobIds = jobIds.ToArray() }, offlineAfter, cancellationToken).ConfigureAwait(false);
        return jobs.ToDictionary(job => job.Id);
    }

    public static async Task<IReadOnlyList<JobResponse>> ListAsync(NpgsqlConnection connection, string where, object parameters, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            $"{Select} {where} ORDER BY j.created_at DESC, j.id DESC LIMIT 1000", parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        IReadOnlyList<OnlineDaemon>? daemons = null;
        var result = new List<JobResponse>(rows.Count);
        foreach (var row in rows)
        {
            var tags = ProvisionerTags.FromJson(row.Tags);
            string? waitingReason = null;
            if (row.Status == "pending")
            {
                daemons ??= await OnlineDaemonsAsync(connection, offlineAfter, cancellationToken).ConfigureAwait(false);
                waitingReason = WaitingReason(row.Provisioner, tags, daemons);
            }

            result.Add(new JobResponse(
                row.Id, row.Type, row.Status, row.Provisioner, tags, row.CreatedAt, row.StartedAt, row.CanceledAt, row.CompletedAt,
                row.Error, row.ErrorCode, row.WorkerId, row.LogsOverflowed, row.QueuePosition, row.QueueSize, waitingReason));
        }

        return result;
    }

    /// <summary>Why a pending job still waits: no online daemon could ever take it, or all that could are busy; null when one is free to take it.</summary>
    internal static string? WaitingReason(string provisioner, IReadOnlyDictionary<string, string> tags, IReadOnlyList<OnlineDaemon> daemons)
    {
        var eligible = daemons.Where(daemon => daemon.Provisioners.Contains(provisioner, StringComparer.Ordinal) && ProvisionerTags.Matches(tags, daemon.Tags)).ToList();
        if (eligible.Count == 0)
        {
            return $"no provisioner matches tags {ProvisionerTags.ToJson(tags)}";
        }

        return eligible.All(daemon => daemon.RunningJobs >= daemon.Slots)
            ? $"all {eligible.Count} matching provisioner(s) are busy"
            : null;
    }

    internal static async Task<IReadOnlyList<OnlineDaemon>> OnlineDaemonsAsync(NpgsqlConnection connection, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(Guid Id, string Tags, string[] Provisioners, int Slots, int Running)>(new CommandDefinition(
            """
            SELECT d.id, d.tags::text, d.provisioners, d.slots,
                   (SELECT count(*) FROM provisioner_jobs j WHERE j.worker_id = d.id AND j.completed_at IS NULL AND j.started_at IS NOT NULL)::int
            FROM provisioner_daemons d WHERE d.last_seen_at > now() - @OfflineAfter
            """,
            new { OfflineAfter = offlineAfter },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => new OnlineDaemon(row.Id, ProvisionerTags.FromJson(row.Tags), row.Provisioners, row.Slots, row.Running))];
    }

    internal sealed record OnlineDaemon(Guid Id, IReadOnlyDictionary<string, string> Tags, string[] Provisioners, int Slots, int RunningJobs);

    private sealed class Row
    {
        public Guid Id { get; set; }

        public string Type { get; set; } = string.Empty;

        public string Status { get; set; } = string.Empty;

        public string Provisioner { get; set; } = string.Empty;

        public string Tags { get; set; } = "{}";

        public DateTime CreatedAt { get; set; }

        public DateTime? StartedAt { get; set; }

        public DateTime? CanceledAt { get; set; }

        public DateTime? CompletedAt { get; set; }

        public string? Error { get; set; }

        public string? ErrorCode { get; set; }

        public Guid? WorkerId { get; set; }

        public bool LogsOverflowed { get; set; }

        public int? QueuePosition { get; set; }

        public int? QueueSize { get; set; }
    }
}
