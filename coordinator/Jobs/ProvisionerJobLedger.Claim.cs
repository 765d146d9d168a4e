using Dapper;

using Hangfire.States;

using Npgsql;

using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Jobs;

// The claim: the ledger's hottest write, and the one that decides which daemon may hold a job (invariant 1), so it
// lives with the ledger like every other write of provisioner_jobs. It shows the claim in Hangfire's rows in the same
// statement (docs/decisions/0001-hangfire-rows-in-ledger-transactions.md); those rows' shapes come from HangfireJobRows.
public sealed partial class ProvisionerJobLedger
{
    /// <summary>
    /// The ledger's part of a publish statement: links job <paramref name="jobIdParameter"/> to the Hangfire job
    /// <paramref name="hangfireIdExpression"/> that the rest of the statement creates (HangfireJobRows.PublishSql), and
    /// returns that id. Kept here so that every write of provisioner_jobs is written in the ledger.
    /// </summary>
    internal static string LinkHangfireJobSql(string hangfireIdExpression, string jobIdParameter) => $"""
        UPDATE provisioner_jobs SET hangfire_job_id = {hangfireIdExpression}::text FROM ids
        WHERE provisioner_jobs.id = {jobIdParameter}
        RETURNING {hangfireIdExpression}
        """;

    // One statement per batch of waiting slots: take up to one queue entry per slot (SKIP LOCKED, so replicas
    // never take the same entry), claim the ledger job of each for its slot's daemon, show it as Processing
    // on that daemon, and take out of view the entries whose ledger job cannot be claimed (canceled, ended,
    // held already). The entries are deleted either way: the ledger, not the queue, decides.
    //
    // Only slots that may take a job count (invariant 1 of docs/architecture.md): their daemon is registered and not
    // revoked, and it holds fewer unfinished jobs than the slots it declared, counting the slots of this batch
    // in order. A slot refused here gets no entry (the entries it would have taken stay queued); the caller
    // hands jobs by each slot's original position ($3's ordinality).
    private static readonly string ClaimSql = $"""
        WITH slots AS (
            SELECT s.daemon_id, s.state_reason, s.state_data, s.slot, row_number() OVER (ORDER BY s.slot) AS pick_slot
            FROM (SELECT u.*, row_number() OVER (PARTITION BY u.daemon_id ORDER BY u.slot) AS nth
                  FROM unnest($3::uuid[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS u(daemon_id, state_reason, state_data, slot)) s
            JOIN provisioner_daemons d ON d.id = s.daemon_id AND d.revoked_at IS NULL
            WHERE s.nth <= d.slots - (SELECT count(*) FROM provisioner_jobs held WHERE held.worker_id = d.id AND held.completed_at IS NULL)),
        picked AS (
            -- Per queue, ordered exactly as Hangfire's (fetchedat NULLS FIRST, queue, jobid) index, so that the
            -- index yields each queue's oldest entries without reading and sorting the backlog (fetchedat is
            -- null and the queue fixed: this is jobid order); then the oldest across the domain's queues.
            SELECT e.entry_id, e.hangfire_id FROM unnest($1::text[]) AS served(queue)
            CROSS JOIN LATERAL (
                SELECT id AS entry_id, jobid AS hangfire_id FROM {HangfireJobRows.Schema}.jobqueue
                WHERE fetchedat IS NULL AND queue = served.queue
                ORDER BY fetchedat NULLS FIRST, queue, jobid LIMIT LEAST($2, (SELECT count(*) FROM slots))
                FOR UPDATE SKIP LOCKED) AS e
            ORDER BY e.hangfire_id LIMIT LEAST($2, (SELECT count(*) FROM slots))),
        numbered AS (
            -- The ledger id is the marker's one argument, stored by Hangfire as a JSON string inside a JSON
            -- array; anything else (not a provisioner job) yields no id and is only removed.
            SELECT p.entry_id, p.hangfire_id, row_number() OVER (ORDER BY p.hangfire_id) AS pick,
                   CASE WHEN h.arguments ->> 0 ~ '{HangfireJobRows.QuotedUuidPattern}' THEN substr(h.arguments ->> 0, 2, 36)::uuid END AS ledger_id
            FROM picked p LEFT JOIN {HangfireJobRows.Schema}.job h ON h.id = p.hangfire_id),
        removed AS (
            DELETE FROM {HangfireJobRows.Schema}.jobqueue q USING picked p WHERE q.id = p.entry_id),
        claimed AS (
            UPDATE provisioner_jobs j SET started_at = now(), updated_at = now(), worker_id = s.daemon_id
            FROM numbered n JOIN slots s ON s.pick_slot = n.pick
            -- By primary key (ANY of an array: index lookups whatever the planner believes about a fast-growing
            -- backlog), and only through the Hangfire job the ledger row names.
            WHERE j.id = ANY (ARRAY(SELECT ledger_id FROM numbered WHERE ledger_id IS NOT NULL)) AND j.id = n.ledger_id
              AND j.hangfire_job_id = n.hangfire_id::text
              AND j.started_at IS NULL AND j.completed_at IS NULL AND j.canceled_at IS NULL
            RETURNING {ProvisionerJobRow.QualifiedColumns("j")}, s.slot AS pick, n.hangfire_id, s.state_reason, s.state_data),
        processing AS (
            INSERT INTO {HangfireJobRows.Schema}.state (jobid, name, reason, createdat, data)
            SELECT c.hangfire_id, '{ProcessingState.StateName}', c.state_reason, now(), c.state_data
            FROM claimed c JOIN {HangfireJobRows.Schema}.job h ON h.id = c.hangfire_id
            RETURNING id, jobid, name),
        dropped AS (
            INSERT INTO {HangfireJobRows.Schema}.state (jobid, name, reason, createdat, data)
            SELECT n.hangfire_id, '{DeletedState.StateName}', 'Its ledger job could not be claimed', now(), $6::jsonb
            FROM numbered n JOIN {HangfireJobRows.Schema}.job h ON h.id = n.hangfire_id
            WHERE h.statename = '{EnqueuedState.StateName}' AND NOT EXISTS (SELECT 1 FROM claimed c WHERE c.hangfire_id = n.hangfire_id)
            RETURNING id, jobid, name),
        moved AS (
            UPDATE {HangfireJobRows.Schema}.job h SET stateid = s.id, statename = s.name,
                expireat = CASE WHEN s.name = '{DeletedState.StateName}' THEN now() + $7 END
            FROM (SELECT id, jobid, name FROM processing UNION ALL SELECT id, jobid, name FROM dropped) s
            WHERE h.id = s.jobid)
        SELECT (SELECT count(*) FROM picked) AS picked, c.* FROM (SELECT) AS one LEFT JOIN claimed c ON true
        """;

    /// <summary>
    /// Takes up to one job from <paramref name="queues"/> for each of <paramref name="slots"/> and claims it
    /// for that slot's daemon, in one statement and one transaction (see <c>ClaimSql</c>).
    /// </summary>
    internal async Task<ClaimBatch> ClaimAsync(string[] queues, IReadOnlyList<DaemonIdentity> slots, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(slots);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ClaimSql, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = queues });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = slots.Count });
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. slots.Select(slot => slot.Id)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. slots.Select(slot => $"Acquired by daemon {slot.Name}")] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. slots.Select(HangfireJobRows.ProcessingData)] });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = HangfireJobRows.StateData(new DeletedState { Reason = "Its ledger job could not be claimed" }) });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = HangfireJobRows.EndedJobExpiration });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var parse = reader.GetRowParser<ClaimedJobRow>();
        var picked = 0;
        var claimed = new List<(int Slot, ProvisionerJob Job)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = parse(reader);
            picked = (int)row.Picked;
            if (row.Pick is { } pick)
            {
                claimed.Add(((int)pick - 1, row.ToJob()));
            }
        }

        return new ClaimBatch(picked, claimed);
    }
}
