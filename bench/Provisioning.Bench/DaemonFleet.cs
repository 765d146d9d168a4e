using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Provisioning.Bench;

/// <summary>M test daemons registered and draining; records when each job arrived and counts completions.</summary>
internal sealed class DaemonFleet : IAsyncDisposable
{
    private readonly List<TestDaemon> _daemons = [];
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<long>> _arrivals = new();
    private int _completed;

    public int Completed => Volatile.Read(ref _completed);

    public static async Task<DaemonFleet> StartAsync(BenchCoordinator coordinator, int count, string prefix, CancellationToken cancellationToken)
    {
        var fleet = new DaemonFleet();
        for (var i = 0; i < count; i++)
        {
            var daemon = new TestDaemon(coordinator.Address, string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}"), fleet.OnAcquired, fleet.OnCompleted);
            fleet._daemons.Add(daemon);
            await daemon.RegisterAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var daemon in fleet._daemons)
        {
            fleet._loops.Add(Task.Run(() => daemon.RunAsync(fleet._stop.Token), CancellationToken.None));
        }

        return fleet;
    }

    /// <summary>The <see cref="Stopwatch.GetTimestamp"/> at which a daemon held <paramref name="jobId"/>.</summary>
    public Task<long> ArrivalOf(Guid jobId) => _arrivals.GetOrAdd(jobId, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Forget(Guid jobId) => _arrivals.TryRemove(jobId, out _);

    public async Task WaitForCompletedAsync(int count, CancellationToken cancellationToken)
    {
        while (Completed < count)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var loop in _loops)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is Grpc.Core.RpcException or OperationCanceledException)
            {
                // A stream torn down by the stop; the coordinator gives back any job it had claimed for it.
            }
        }

        foreach (var daemon in _daemons)
        {
            daemon.Dispose();
        }

        _stop.Dispose();
    }

    private void OnAcquired(Guid jobId, long timestamp) =>
        _arrivals.GetOrAdd(jobId, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(timestamp);

    private void OnCompleted(Guid jobId) => Interlocked.Increment(ref _completed);
}
