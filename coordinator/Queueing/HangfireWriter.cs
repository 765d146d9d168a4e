using System.Collections.Concurrent;
using System.Globalization;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// Runs Hangfire's storage calls (Create, ChangeState, RemoveFromQueue), which are synchronous and take
/// several round trips each, on a few dedicated threads instead of thread-pool threads: blocked in request
/// handlers they starve the pool on a small machine (measured by bench/: enqueue p99 in seconds). Calls for
/// the same Hangfire job go to the same thread in the order they were made, so a job's states are written
/// in order (Processing before Succeeded, say) even when nobody waits for them.
/// </summary>
internal sealed class HangfireWriter : IDisposable
{
    private readonly BlockingCollection<Action>[] _lanes;
    private readonly Thread[] _threads;
    private int _next;

    public HangfireWriter(int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        _lanes = [.. Enumerable.Range(0, lanes).Select(_ => new BlockingCollection<Action>())];
        _threads = [.. _lanes.Select((lane, index) => new Thread(() => Drain(lane))
        {
            // A host that is not disposed (a test, a crash) must still be able to exit.
            IsBackground = true,
            Name = string.Create(CultureInfo.InvariantCulture, $"hangfire-writer-{index}"),
        })];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> after every earlier call for <paramref name="hangfireJobId"/>, without waiting; it must handle its own failures.</summary>
    public void Post(string? hangfireJobId, Action work)
    {
        try
        {
            _lanes[LaneOf(hangfireJobId)].Add(work);
        }
        catch (InvalidOperationException)
        {
            // Disposed: the host is stopping; do it here rather than drop it.
            work();
        }
    }

    /// <summary>Runs <paramref name="work"/> after every earlier call for <paramref name="hangfireJobId"/> (any lane when null) and returns its result.</summary>
    public Task<T> RunAsync<T>(string? hangfireJobId, Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(hangfireJobId, () =>
        {
            try
            {
                result.SetResult(work());
            }
#pragma warning disable CA1031 // Handed to the awaiting caller.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                result.SetException(exception);
            }
        });
        return result.Task;
    }

    /// <summary>Finishes the calls already posted, then stops the threads.</summary>
    public void Dispose()
    {
        foreach (var lane in _lanes)
        {
            lane.CompleteAdding();
        }

        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(30));
        }

        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }
    }

    private int LaneOf(string? hangfireJobId) =>
        hangfireJobId is null
            ? (int)((uint)Interlocked.Increment(ref _next) % (uint)_lanes.Length)
            : (int)((uint)StringComparer.Ordinal.GetHashCode(hangfireJobId) % (uint)_lanes.Length);

    private static void Drain(BlockingCollection<Action> lane)
    {
        foreach (var work in lane.GetConsumingEnumerable())
        {
            try
            {
                work();
            }
#pragma warning disable CA1031 // Work items report their own failures; the lane must keep running.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
