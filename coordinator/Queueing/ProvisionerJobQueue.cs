using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

using Microsoft.Extensions.Logging;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// Puts ledger jobs into Hangfire and keeps each Hangfire job's state in step with the ledger
/// (Enqueued → Processing → Succeeded/Failed/Deleted), so the Hangfire dashboard is a live view of the
/// fleet. The ledger decides; a Hangfire state that could not be written is only a stale view.
/// Hangfire's synchronous storage calls run on the dedicated threads of a <see cref="HangfireWriter"/>.
/// </summary>
public sealed class ProvisionerJobQueue : IDisposable
{
    private const int WriterLanes = 4;

    private readonly ProvisionerJobLedger _ledger;
    private readonly IBackgroundJobClient _client;
    private readonly ILogger<ProvisionerJobQueue> _logger;
    private readonly HangfireWriter _writer = new(WriterLanes);

    public ProvisionerJobQueue(JobStorage storage, ProvisionerJobLedger ledger, ILogger<ProvisionerJobQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(logger);
        _ledger = ledger;
        _logger = logger;
        _client = new BackgroundJobClient(storage);
    }

    public ProvisionerJobLedger Ledger => _ledger;

    /// <summary>Inserts the job into the ledger and enqueues it on the Hangfire queue of its (provisioner, tags).</summary>
    public async Task<ProvisionerJob> EnqueueAsync(NewProvisionerJob job, CancellationToken cancellationToken = default)
    {
        var inserted = await _ledger.InsertAsync(job, cancellationToken).ConfigureAwait(false);
        return await PublishAsync(inserted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Enqueues a ledger job that was inserted (e.g. in a caller's transaction) but is not in Hangfire yet.
    /// The enqueue is not part of the ledger's transaction; <see cref="PublishMissingAsync"/> catches up
    /// with jobs whose enqueue never happened.
    /// </summary>
    public async Task<ProvisionerJob> PublishAsync(ProvisionerJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var jobId = job.Id;
        var queue = job.Queue;
        // Not abandoned on cancellation: a Hangfire job created but not recorded in the ledger would be published a second time.
        var hangfireJobId = await _writer.RunAsync(null, () => _client.Create(Job.FromExpression<ProvisionerJobMarker>(marker => marker.Run(jobId)), new EnqueuedState(queue)))
            .ConfigureAwait(false);
        await _ledger.SetHangfireJobIdAsync(job.Id, hangfireJobId, cancellationToken).ConfigureAwait(false);
        ProvisionerJobQueueLog.Enqueued(_logger, job.Id, job.Queue, hangfireJobId);
        return job with { HangfireJobId = hangfireJobId };
    }

    /// <summary>Enqueues pending jobs whose Hangfire job was never created (the coordinator stopped between insert and enqueue).</summary>
    public async Task<int> PublishMissingAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var missing = await _ledger.ListUnpublishedAsync(olderThan, cancellationToken).ConfigureAwait(false);
        foreach (var job in missing)
        {
            await PublishAsync(job, cancellationToken).ConfigureAwait(false);
        }

        return missing.Count;
    }

    /// <summary>Ends a held job as succeeded in the ledger, then in Hangfire.</summary>
    public async Task<JobCompletion> CompleteAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        var completion = await _ledger.CompleteAsync(jobId, daemonId, cancellationToken).ConfigureAwait(false);
        await MarkEndedAsync(completion.Job).ConfigureAwait(false);
        return completion;
    }

    /// <summary>Ends a held job as failed (canceled, when a user canceled it) in the ledger, then in Hangfire.</summary>
    public async Task<JobCompletion> FailAsync(Guid jobId, Guid daemonId, string error, string? errorCode, CancellationToken cancellationToken = default)
    {
        var completion = await _ledger.FailAsync(jobId, daemonId, error, errorCode, cancellationToken).ConfigureAwait(false);
        await MarkEndedAsync(completion.Job).ConfigureAwait(false);
        return completion;
    }

    /// <summary>Cancels a job (see <see cref="ProvisionerJobLedger.CancelAsync"/>); a pending one leaves its Hangfire queue at once.</summary>
    public async Task<ProvisionerJob> CancelAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        var job = await _ledger.CancelAsync(jobId, cancellationToken).ConfigureAwait(false);
        await MarkEndedAsync(job).ConfigureAwait(false);
        return job;
    }

    /// <summary>Gives a claimed job back (its daemon went away before receiving it): it is enqueued again, or stays canceled.</summary>
    public async Task<ProvisionerJob?> ReleaseAsync(Guid jobId, Guid daemonId, CancellationToken cancellationToken = default)
    {
        var job = await _ledger.ReleaseAsync(jobId, daemonId, cancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            return null;
        }

        if (job.Status == ProvisionerJobStatus.Pending && job.HangfireJobId is { } hangfireJobId)
        {
            await ChangeStateAsync(hangfireJobId, new EnqueuedState(job.Queue) { Reason = "Released: its daemon went away before receiving it" }, ProcessingState.StateName).ConfigureAwait(false);
        }
        else
        {
            await MarkEndedAsync(job).ConfigureAwait(false);
        }

        return job;
    }

    /// <summary>
    /// Removes a claimed job's entry from its Hangfire queue and shows it as processing on its daemon, after
    /// the daemon has it: neither is on the way from the claim to the daemon. An entry that could not be
    /// removed is fetched again later and found unclaimable.
    /// </summary>
    internal void FinishFetched(IFetchedJob fetched, DaemonIdentity daemon) =>
        _writer.Post(fetched.JobId, () =>
        {
            using (fetched)
            {
                try
                {
                    fetched.RemoveFromQueue();
                }
#pragma warning disable CA1031 // The ledger holds the claim; a queue entry left behind is only found unclaimable later.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    ProvisionerJobQueueLog.StateChangeFailed(_logger, exception, fetched.JobId, "removed from its queue");
                }
            }

            TryChangeState(fetched.JobId, new DaemonProcessingState(daemon.Name, daemon.Id), EnqueuedState.StateName);
        });

    /// <summary>
    /// Moves the Hangfire job of an ended ledger job to the matching final state (no change when the job has
    /// not ended). Written in the background, after the job's earlier state changes; the caller does not wait.
    /// </summary>
    public void MarkEnded(ProvisionerJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (EndedState(job) is ({ } hangfireJobId, { } state))
        {
            _writer.Post(hangfireJobId, () => TryChangeState(hangfireJobId, state, expectedState: null));
        }
    }

    public void Dispose() => _writer.Dispose();

    private Task MarkEndedAsync(ProvisionerJob job) =>
        EndedState(job) is ({ } hangfireJobId, { } state)
            ? ChangeStateAsync(hangfireJobId, state, expectedState: null)
            : Task.CompletedTask;

    private static (string? HangfireJobId, IState? State) EndedState(ProvisionerJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.HangfireJobId is not { } hangfireJobId || !job.Status.IsTerminal())
        {
            return (null, null);
        }

        IState state = job.Status switch
        {
            ProvisionerJobStatus.Succeeded => new DaemonSucceededState((job.CompletedAt ?? job.UpdatedAt) - (job.StartedAt ?? job.CreatedAt)),
            ProvisionerJobStatus.Failed => new FailedState(new ProvisionerJobFailedException(job.Error ?? "failed")) { Reason = job.ErrorCode },
            _ => new DeletedState { Reason = "Canceled" },
        };
        return (hangfireJobId, state);
    }

    /// <summary>Takes a Hangfire job that names a ledger job which cannot be claimed (canceled, ended, or held already) out of view.</summary>
    internal void MarkUnclaimable(string hangfireJobId, ProvisionerJob? job)
    {
        if (job is not null && job.HangfireJobId == hangfireJobId && job.Status.IsTerminal())
        {
            MarkEnded(job);
            return;
        }

        _writer.Post(hangfireJobId, () => TryChangeState(hangfireJobId, new DeletedState { Reason = "Its ledger job could not be claimed" }, EnqueuedState.StateName));
    }

    private Task ChangeStateAsync(string hangfireJobId, IState state, string? expectedState) =>
        _writer.RunAsync(hangfireJobId, () =>
        {
            TryChangeState(hangfireJobId, state, expectedState);
            return true;
        });

    private void TryChangeState(string hangfireJobId, IState state, string? expectedState)
    {
        try
        {
            _client.ChangeState(hangfireJobId, state, expectedState);
        }
#pragma warning disable CA1031 // The ledger already holds the truth; a Hangfire state that could not be written must not fail the caller.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            ProvisionerJobQueueLog.StateChangeFailed(_logger, exception, hangfireJobId, state.Name);
        }
    }
}
