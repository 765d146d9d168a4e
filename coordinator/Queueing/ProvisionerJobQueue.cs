using Hangfire;

using Microsoft.Extensions.Logging;

using Npgsql;

using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// Puts ledger jobs into Hangfire and keeps each Hangfire job's state in step with the ledger
/// (Enqueued → Processing → Succeeded/Failed/Deleted), so the Hangfire dashboard is a live view of the
/// fleet. Every Hangfire write happens in the transaction of the ledger change it shows
/// (<see cref="HangfireJobRows"/>): the view can never disagree with the ledger, and a job is enqueued
/// exactly when its ledger row is published.
/// </summary>
public sealed class ProvisionerJobQueue
{
    private readonly ProvisionerJobLedger _ledger;
    private readonly ILogger<ProvisionerJobQueue> _logger;

    /// <param name="storage">Hangfire's storage; creating it installs (or upgrades) the schema whose rows this queue writes.</param>
    public ProvisionerJobQueue(JobStorage storage, ProvisionerJobLedger ledger, ILogger<ProvisionerJobQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(logger);
        _ledger = ledger;
        _logger = logger;
        HangfireJobRows.RequireCompatibleSchema(ledger.DataSource);
    }

    public ProvisionerJobLedger Ledger => _ledger;

    /// <summary>Inserts the job into the ledger and enqueues it on the Hangfire queue of its (provisioner, tags): one round trip, one transaction.</summary>
    public async Task<ProvisionerJob> EnqueueAsync(NewProvisionerJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await _ledger.EnsureQueueAsync(job.Provisioner, job.Tags, cancellationToken).ConfigureAwait(false);
        await using var connection = await _ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        var queue = ProvisionerTags.QueueName(job.Provisioner, ProvisionerTags.Canonicalize(job.Tags));
        batch.BatchCommands.Add(ProvisionerJobLedger.InsertCommand(job));
        batch.BatchCommands.Add(HangfireJobRows.PublishCommand(job.Id, queue));
        batch.BatchCommands.Add(HangfireJobRows.NotifyCommand(queue));
        ProvisionerJob? inserted = null;
        string? hangfireJobId = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            inserted = await ProvisionerJobLedger.ReadJobAsync(reader, cancellationToken).ConfigureAwait(false);
            if (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false) && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                hangfireJobId = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        if (inserted is null || hangfireJobId is null)
        {
            throw new InvalidOperationException($"Enqueueing job {job.Id} returned no row.");
        }

        ProvisionerJobQueueLog.Enqueued(_logger, inserted.Id, inserted.Queue, hangfireJobId);
        return inserted with { HangfireJobId = hangfireJobId };
    }

    /// <summary>
    /// Enqueues a ledger job inserted in the caller's transaction, in that same transaction: the job is in
    /// its queue exactly when the caller commits, and daemons are woken at the commit.
    /// </summary>
    public async Task<ProvisionerJob> PublishAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ProvisionerJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var hangfireJobId = await HangfireJobRows.PublishAsync(connection, transaction, job, cancellationToken).ConfigureAwait(false);
        ProvisionerJobQueueLog.Enqueued(_logger, job.Id, job.Queue, hangfireJobId);
        return job with { HangfireJobId = hangfireJobId };
    }

    /// <summary>Enqueues a ledger job that was inserted and committed but is not in Hangfire yet (see <see cref="PublishMissingAsync"/>).</summary>
    public async Task<ProvisionerJob> PublishAsync(ProvisionerJob job, CancellationToken cancellationToken = default)
    {
        await using var connection = await _ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await PublishAsync(connection, null, job, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Enqueues pending jobs that have no Hangfire job: rows inserted by a caller that committed without
    /// publishing them, or by a coordinator older than the single-transaction enqueue.
    /// </summary>
    public async Task<int> PublishMissingAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var missing = await _ledger.ListUnpublishedAsync(olderThan, cancellationToken).ConfigureAwait(false);
        foreach (var job in missing)
        {
            await PublishAsync(job, cancellationToken).ConfigureAwait(false);
        }

        return missing.Count;
    }

    /// <summary>
    /// Ends a held job as succeeded, in the ledger and in Hangfire, in one transaction. <paramref name="record"/>
    /// stores what the report carries in that transaction, and runs for every outcome: when this call ended the
    /// job (<see cref="CompletionOutcome.Completed"/>), for a repeated report (<see cref="CompletionOutcome.AlreadyCompleted"/>,
    /// which must change nothing), and for a report that arrived after the job ended without one
    /// (<see cref="CompletionOutcome.EndedWithoutReport"/>, whose state must still be kept: invariant 3).
    /// </summary>
    public Task<JobCompletion> CompleteAsync(Guid jobId, Guid daemonId, Func<NpgsqlConnection, NpgsqlTransaction, JobCompletion, Task>? record, CancellationToken cancellationToken) =>
        EndAsync((connection, transaction) => _ledger.CompleteAsync(connection, transaction, jobId, daemonId, cancellationToken), record, cancellationToken);

    /// <summary>Ends a held job as succeeded, with no results to store.</summary>
    public Task<JobCompletion> CompleteAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default) =>
        CompleteAsync(jobId, daemonId, record: null, cancellationToken);

    /// <summary>Ends a held job as failed (canceled, when a user canceled it), with no results to store.</summary>
    public Task<JobCompletion> FailAsync(Guid jobId, Guid daemonId, string error, string? errorCode, CancellationToken cancellationToken = default) =>
        FailAsync(jobId, daemonId, error, errorCode, record: null, cancellationToken);

    /// <summary>Ends a held job as failed (canceled, when a user canceled it), like <see cref="CompleteAsync(Guid, Guid, Func{NpgsqlConnection, NpgsqlTransaction, JobCompletion, Task}?, CancellationToken)"/>.</summary>
    public Task<JobCompletion> FailAsync(Guid jobId, Guid daemonId, string error, string? errorCode, Func<NpgsqlConnection, NpgsqlTransaction, JobCompletion, Task>? record, CancellationToken cancellationToken) =>
        EndAsync((connection, transaction) => _ledger.FailAsync(connection, transaction, jobId, daemonId, error, errorCode, cancellationToken), record, cancellationToken);

    /// <summary>Cancels a job (see <see cref="ProvisionerJobLedger.CancelAsync(NpgsqlConnection, NpgsqlTransaction?, Guid, CancellationToken)"/>); a pending one leaves its Hangfire queue in the same transaction.</summary>
    public async Task<ProvisionerJob> CancelAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var job = await CancelAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return job;
    }

    /// <summary>Cancels a job in the caller's transaction; a pending one (which ends at once) leaves its Hangfire queue in it.</summary>
    public async Task<ProvisionerJob> CancelAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, CancellationToken cancellationToken = default)
    {
        var (job, changed) = await _ledger.CancelAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false);
        if (changed && job.Status.IsTerminal())
        {
            await HangfireJobRows.EndAsync(connection, transaction, [job], cancellationToken).ConfigureAwait(false);
            await JobLogWriter.AppendOmittedSummaryAsync(connection, transaction, job.Id, cancellationToken).ConfigureAwait(false);
        }

        return job;
    }

    /// <summary>Gives a claimed job back (its daemon went away before receiving it): it is enqueued again, or stays canceled.</summary>
    public async Task<ProvisionerJob?> ReleaseAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var job = await _ledger.ReleaseAsync(connection, transaction, jobId, daemonId, cancellationToken).ConfigureAwait(false);
        if (job is not null)
        {
            if (job.Status == ProvisionerJobStatus.Pending)
            {
                await HangfireJobRows.RequeueAsync(connection, transaction, job, "Released: its daemon went away before receiving it", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await HangfireJobRows.EndAsync(connection, transaction, [job], cancellationToken).ConfigureAwait(false);
                await JobLogWriter.AppendOmittedSummaryAsync(connection, transaction, job.Id, cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return job;
    }

    /// <summary>
    /// Ends the jobs nobody will finish (see <see cref="ProvisionerJobLedger.ReapAsync(NpgsqlConnection, NpgsqlTransaction?, TimeSpan, TimeSpan, CancellationToken)"/>)
    /// and shows them as failed in Hangfire, in one transaction; returns the jobs it ended.
    /// </summary>
    public async Task<IReadOnlyList<ProvisionerJob>> ReapAsync(TimeSpan hangTimeout, TimeSpan pendingTimeout, CancellationToken cancellationToken = default)
    {
        await using var connection = await _ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var reaped = await _ledger.ReapAsync(connection, transaction, hangTimeout, pendingTimeout, cancellationToken).ConfigureAwait(false);
        foreach (var job in reaped)
        {
            // Whoever reads the job's log sees why it ended, not only a status.
            await JobLogWriter.AppendNoticeAsync(connection, transaction, job.Id, "error", $"The coordinator ended this job: {job.Error}", cancellationToken).ConfigureAwait(false);
        }

        await HangfireJobRows.EndAsync(connection, transaction, reaped, cancellationToken).ConfigureAwait(false);
        await JobLogWriter.AppendOmittedSummaryAsync(connection, transaction, [.. reaped.Select(job => job.Id)], cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return reaped;
    }

    private async Task<JobCompletion> EndAsync(
        Func<NpgsqlConnection, NpgsqlTransaction, Task<JobCompletion>> end,
        Func<NpgsqlConnection, NpgsqlTransaction, JobCompletion, Task>? record,
        CancellationToken cancellationToken)
    {
        await using var connection = await _ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var completion = await end(connection, transaction).ConfigureAwait(false);
        if (record is not null)
        {
            await record(connection, transaction, completion).ConfigureAwait(false);
        }

        if (completion.Outcome == CompletionOutcome.Completed)
        {
            // Counted once: a repeated or late report changed nothing in the ledger and changes nothing here.
            await HangfireJobRows.EndAsync(connection, transaction, [completion.Job], cancellationToken).ConfigureAwait(false);
            await JobLogWriter.AppendOmittedSummaryAsync(connection, transaction, completion.Job.Id, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return completion;
    }
}
