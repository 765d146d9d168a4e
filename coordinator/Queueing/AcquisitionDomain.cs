using Microsoft.Extensions.Logging;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// The daemons (slots) whose eligible queue sets are equal. One loop per domain takes jobs from exactly
/// those Hangfire queues for the slots waiting in it: one statement claims a job for each of up to
/// <see cref="MaxBatch"/> waiting slots, so a burst of jobs costs one round trip per batch, not several
/// per job. The loop sleeps while the queues are empty and is woken by the acquirer's listener when a job
/// is enqueued on one of them (on any replica); a poll every <see cref="PollInterval"/> covers a lost notification.
/// </summary>
internal sealed class AcquisitionDomain : IAsyncDisposable
{
    /// <summary>The most slots served by one claim statement.</summary>
    public const int MaxBatch = 32;

    /// <summary>How long an idle loop waits for a notification before it looks at its queues anyway.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly ProvisionerJobLedger _ledger;
    private readonly ILogger _logger;
    private readonly LinkedList<AcquisitionWaiter> _waiters = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private readonly HashSet<string> _queueSet;
    private TaskCompletionSource _waiterAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _wakeups;
    private AcquisitionOutcome? _stoppedOutcome;
    private Task? _loop;

    public AcquisitionDomain(string[] queues, ProvisionerJobLedger ledger, ILogger logger)
    {
        Queues = queues;
        _queueSet = new HashSet<string>(queues, StringComparer.Ordinal);
        _ledger = ledger;
        _logger = logger;
    }

    public string[] Queues { get; }

    public string Key => string.Join(',', Queues);

    public void Start() => _loop = Task.Run(RunAsync);

    public bool Serves(string queue) => _queueSet.Contains(queue);

    /// <summary>Says that one of this domain's queues may have a new entry: an idle loop looks at once.</summary>
    public void Wake()
    {
        lock (_sync)
        {
            _wakeups++;
            _woken.TrySetResult();
        }
    }

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

    /// <summary>Cancels a waiting slot (a slot a claim is running for is answered by that claim).</summary>
    public void Cancel(AcquisitionWaiter waiter)
    {
        if (!waiter.TryFinish(AcquisitionOutcome.Canceled))
        {
            return;
        }

        lock (_sync)
        {
            _waiters.Remove(waiter);
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

                long seen;
                lock (_sync)
                {
                    seen = _wakeups;
                }

                if (await ClaimAndDispatchAsync().ConfigureAwait(false))
                {
                    await WaitForWakeAsync(seen, stopping).ConfigureAwait(false);
                }
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

    /// <summary>Waits until a wake-up newer than <paramref name="seen"/> arrives, or the poll interval passes.</summary>
    private async Task WaitForWakeAsync(long seen, CancellationToken stopping)
    {
        Task woken;
        lock (_sync)
        {
            if (_wakeups != seen)
            {
                return;
            }

            if (_woken.Task.IsCompleted)
            {
                _woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            woken = _woken.Task;
        }

        try
        {
            await woken.WaitAsync(PollInterval, stopping).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The fallback poll: look at the queues even though nobody said anything arrived.
        }
    }

    /// <summary>Claims jobs for the waiting slots and hands them over; true when the queues had fewer jobs than waiting slots (drained).</summary>
    private async Task<bool> ClaimAndDispatchAsync()
    {
        var taken = TakeWaiters();
        if (taken.Count == 0)
        {
            return false;
        }

        ClaimBatch batch;
        try
        {
            // Not cancelable: a claim committed but not read back would leave jobs held by slots that never get them.
            batch = await _ledger.ClaimAsync(Queues, [.. taken.Select(waiter => waiter.Daemon)], CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            ReturnWaiters(taken);
            throw;
        }

        var delivered = new bool[taken.Count];
        foreach (var (slot, job) in batch.Claimed)
        {
            var waiter = taken[slot];
            waiter.Deliver(job);
            delivered[slot] = true;
            JobAcquirerLog.Acquired(_logger, job.Id, waiter.Daemon.Name, Key);
        }

        if (batch.Picked > batch.Claimed.Count)
        {
            JobAcquirerLog.Unclaimable(_logger, batch.Picked - batch.Claimed.Count, Key);
        }

        ReturnWaiters([.. taken.Where((_, index) => !delivered[index])]);
        return batch.Picked < taken.Count;
    }

    private List<AcquisitionWaiter> TakeWaiters()
    {
        var taken = new List<AcquisitionWaiter>();
        lock (_sync)
        {
            while (taken.Count < MaxBatch && _waiters.First is { } first)
            {
                _waiters.RemoveFirst();
                if (first.Value.TryTake())
                {
                    taken.Add(first.Value);
                }
            }
        }

        return taken;
    }

    /// <summary>Puts slots that got no job back at the head of the line, in their order.</summary>
    private void ReturnWaiters(List<AcquisitionWaiter> waiters)
    {
        for (var index = waiters.Count - 1; index >= 0; index--)
        {
            var waiter = waiters[index];
            if (!waiter.Return())
            {
                continue;
            }

            lock (_sync)
            {
                if (_stoppedOutcome is { } outcome)
                {
                    waiter.TryFinish(outcome);
                    continue;
                }

                _waiters.AddFirst(waiter);
            }
        }
    }
}
