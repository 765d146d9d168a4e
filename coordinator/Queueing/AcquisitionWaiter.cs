using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// One daemon slot waiting for a job. Its state moves Waiting → Taken (a fetch loop picked it, then either
/// delivers a job or returns it) or Waiting → Done (canceled, or asked to re-route); the compare-and-swap
/// makes a job go to a slot that is still there, and a canceled slot never receive one.
/// </summary>
internal sealed class AcquisitionWaiter(DaemonIdentity daemon, CancellationToken cancellationToken)
{
    private const int Waiting = 0;
    private const int Taken = 1;
    private const int Done = 2;

    private readonly TaskCompletionSource<AcquisitionOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public DaemonIdentity Daemon { get; } = daemon;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public Task<AcquisitionOutcome> Outcome => _outcome.Task;

    public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

    /// <summary>Puts a taken waiter back; false (and the waiter ends as canceled) when its caller gave up meanwhile.</summary>
    public bool Return()
    {
        Volatile.Write(ref _state, Waiting);

        // The cancellation callback may have run while the waiter was taken, and found nothing to cancel.
        return !(CancellationToken.IsCancellationRequested && TryFinish(AcquisitionOutcome.Canceled));
    }

    public void Deliver(ProvisionerJob job)
    {
        Volatile.Write(ref _state, Done);
        _outcome.TrySetResult(AcquisitionOutcome.Acquired(job));
    }

    /// <summary>Ends a waiting waiter (canceled, or re-route); false when a fetch loop holds it.</summary>
    public bool TryFinish(AcquisitionOutcome outcome)
    {
        if (Interlocked.CompareExchange(ref _state, Done, Waiting) != Waiting)
        {
            return false;
        }

        _outcome.TrySetResult(outcome);
        return true;
    }
}
