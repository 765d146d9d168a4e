using Hangfire;
using Hangfire.Storage;

using Microsoft.Extensions.Logging;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// The daemons (slots) whose eligible queue sets are equal. One fetch loop per domain takes jobs from
/// exactly those Hangfire queues and hands each to one waiting slot, so a job is fetched only when a slot
/// that can run it is waiting, and daemons that serve the same queues never compete with each other's fetches.
/// </summary>
internal sealed class AcquisitionDomain : IAsyncDisposable
{
    private readonly JobStorage _storage;
    private readonly ProvisionerJobQueue _queue;
    private readonly ILogger _logger;
    private readonly LinkedList<AcquisitionWaiter> _waiters = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private TaskCompletionSource _waiterAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _fetch;
    private AcquisitionOutcome? _stoppedOutcome;
    private Task? _loop;

    public AcquisitionDomain(string[] queues, JobStorage storage, ProvisionerJobQueue queue, ILogger logger)
    {
        Queues = queues;
        _storage = storage;
        _queue = queue;
        _logger = logger;
    }

    public string[] Queues { get; }

    public string Key => string.Join(',', Queues);

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Adds a waiting slot; false when the domain is stopping (the caller re-routes).</summary>
    public bool TryAdd(AcquisitionWaiter waiter)
    {
        lock (_sync)
        {
            if (_stoppedOutcome is not null)
            {
                return false;
            }

            _waiters.AddLast(waiter);
            _waiterAdded.TrySetResult();
            return true;
        }
    }

    /// <summary>Cancels a waiting slot; when it was the last one, the fetch in flight is abandoned.</summary>
    public void Cancel(AcquisitionWaiter waiter)
    {
        if (!waiter.TryFinish(AcquisitionOutcome.Canceled))
        {
            return;
        }

        lock (_sync)
        {
            _waiters.Remove(waiter);
            if (!HasWaitingLocked())
            {
                _fetch?.Cancel();
            }
        }
    }

    /// <summary>Stops the loop and ends every waiting slot with <paramref name="outcome"/>.</summary>
    public async Task StopAsync(AcquisitionOutcome outcome)
    {
        List<AcquisitionWaiter> waiters;
        lock (_sync)
        {
            _stoppedOutcome ??= outcome;
            waiters = [.. _waiters];
            _waiters.Clear();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var waiter in waiters)
        {
            waiter.TryFinish(outcome);
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(AcquisitionOutcome.Canceled).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private bool HasWaitingLocked() => _waiters.Any(waiter => waiter.IsWaiting);

    private async Task RunAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await WaitForWaiterAsync(stopping).ConfigureAwait(false);
                if (Queues.Length == 0)
                {
                    // Nothing these daemons may run exists yet; a new queue re-routes them into another domain.
                    await Task.Delay(Timeout.Infinite, stopping).ConfigureAwait(false);
                }

                await FetchAndDispatchAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // The loop must outlive a database outage: log, wait, try again.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                JobAcquirerLog.FetchFailed(_logger, exception, Key);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        // A slot that arrived after the last check must not wait forever.
        List<AcquisitionWaiter> left;
        lock (_sync)
        {
            left = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var waiter in left)
        {
            waiter.TryFinish(_stoppedOutcome ?? AcquisitionOutcome.Canceled);
        }
    }

    private async Task WaitForWaiterAsync(CancellationToken stopping)
    {
        while (true)
        {
            Task added;
            lock (_sync)
            {
                if (HasWaitingLocked())
                {
                    return;
                }

                if (_waiterAdded.Task.IsCompleted)
                {
                    _waiterAdded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                added = _waiterAdded.Task;
            }

            await added.WaitAsync(stopping).ConfigureAwait(false);
        }
    }

    private async Task FetchAndDispatchAsync(CancellationToken stopping)
    {
        using var fetch = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        lock (_sync)
        {
            if (!HasWaitingLocked())
            {
                return;
            }

            _fetch = fetch;
        }

        using var connection = _storage.GetConnection();
        IFetchedJob fetched;
        try
        {
            // FetchNextJob blocks its thread until a job arrives (woken by LISTEN/NOTIFY) or the token fires.
            fetched = await Task.Factory.StartNew(
                () => connection.FetchNextJob(Queues, fetch.Token),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (fetch.IsCancellationRequested)
        {
            // The last slot left (or the domain stops); the outer loop decides which.
            return;
        }
        finally
        {
            lock (_sync)
            {
                _fetch = null;
            }
        }

        // Disposing a fetched job that was neither removed nor requeued puts it back in its queue, so an
        // exception below loses nothing. A claimed job's entry is handed over (and disposed) with the claim.
        var handedOver = false;
        try
        {
            handedOver = await DispatchAsync(connection, fetched, stopping).ConfigureAwait(false);
        }
        finally
        {
            if (!handedOver)
            {
                fetched.Dispose();
            }
        }
    }

    /// <summary>True when the fetched entry was handed over with a claimed job (its removal is then done in the background).</summary>
    private async Task<bool> DispatchAsync(IStorageConnection connection, IFetchedJob fetched, CancellationToken stopping)
    {
        var jobData = connection.GetJobData(fetched.JobId);
        if (jobData?.Job?.Args is not [Guid jobId])
        {
            JobAcquirerLog.ForeignJob(_logger, fetched.JobId, Key);
            fetched.RemoveFromQueue();
            return false;
        }

        var waiter = TakeWaiter();
        if (waiter is null)
        {
            fetched.Requeue();
            return false;
        }

        ProvisionerJob? claimed;
        try
        {
            claimed = await _queue.Ledger.TryClaimAsync(jobId, waiter.Daemon.Id, stopping).ConfigureAwait(false);
        }
        catch
        {
            ReturnWaiter(waiter);
            throw;
        }

        if (claimed is null)
        {
            // Canceled, ended or held already: the ledger says no, so this queue entry is dead.
            ReturnWaiter(waiter);
            fetched.RemoveFromQueue();
            var current = await _queue.Ledger.GetAsync(jobId, stopping).ConfigureAwait(false);
            _queue.MarkUnclaimable(fetched.JobId, current);
            JobAcquirerLog.Unclaimable(_logger, jobId, current?.Status.ToText() ?? "missing");
            return false;
        }

        // The ledger row is the daemon's now: deliver it first, then the queue bookkeeping, which the daemon
        // does not wait for (an entry left behind is fetched again later and found unclaimable).
        waiter.Deliver(claimed with { HangfireJobId = fetched.JobId });
        _queue.FinishFetched(fetched, waiter.Daemon);
        JobAcquirerLog.Acquired(_logger, jobId, waiter.Daemon.Name, Key);
        return true;
    }

    private AcquisitionWaiter? TakeWaiter()
    {
        lock (_sync)
        {
            while (_waiters.First is { } first)
            {
                _waiters.RemoveFirst();
                if (first.Value.TryTake())
                {
                    return first.Value;
                }
            }

            return null;
        }
    }

    private void ReturnWaiter(AcquisitionWaiter waiter)
    {
        if (!waiter.Return())
        {
            return;
        }

        lock (_sync)
        {
            if (_stoppedOutcome is { } outcome)
            {
                waiter.TryFinish(outcome);
                return;
            }

            _waiters.AddFirst(waiter);
        }
    }
}
