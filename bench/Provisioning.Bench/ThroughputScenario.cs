using System.Diagnostics;

namespace Provisioning.Bench;

/// <summary>
/// Sustained throughput: P producers enqueue N jobs as fast as they can (ProvisionerJobQueue.EnqueueAsync,
/// what a build request does) while M daemons drain them over gRPC; jobs/s from the first enqueue to the
/// last CompleteJob.
/// </summary>
internal static class ThroughputScenario
{
    public static async Task<ScenarioResult> RunAsync(BenchCoordinator coordinator, BenchOptions options, CancellationToken cancellationToken)
    {
        await using var fleet = await DaemonFleet.StartAsync(coordinator, options.Daemons, "throughput", cancellationToken).ConfigureAwait(false);
        var warmUp = Math.Min(50, options.Jobs);
        for (var i = 0; i < warmUp; i++)
        {
            await coordinator.Queue.EnqueueAsync(NoOpJobs.Create(), cancellationToken).ConfigureAwait(false);
        }

        await fleet.WaitForCompletedAsync(warmUp, cancellationToken).ConfigureAwait(false);

        var transactionsBefore = await DatabaseTransactions.ReadAsync(coordinator.DataSource, cancellationToken).ConfigureAwait(false);
        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(options.Duration);
        var remaining = options.Jobs;
        var enqueueMilliseconds = new List<double>[options.Producers];
        var start = Stopwatch.GetTimestamp();
        var producers = Enumerable.Range(0, options.Producers).Select(producer => Task.Run(async () =>
        {
            var own = enqueueMilliseconds[producer] = [];
            while (Interlocked.Decrement(ref remaining) >= 0 && !bounded.IsCancellationRequested)
            {
                var before = Stopwatch.GetTimestamp();
                await coordinator.Queue.EnqueueAsync(NoOpJobs.Create(), bounded.Token).ConfigureAwait(false);
                own.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
            }
        }, CancellationToken.None)).ToArray();

        var enqueueFailed = false;
        try
        {
            await Task.WhenAll(producers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            enqueueFailed = true;
        }

        var enqueueSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var enqueued = enqueueMilliseconds.Sum(list => list?.Count ?? 0);
        try
        {
            await fleet.WaitForCompletedAsync(warmUp + enqueued, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The duration bound ended the run; report what completed.
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var completed = fleet.Completed - warmUp;
        var loadAfter = Load.Now();
        var transactions = await DatabaseTransactions.ReadAsync(coordinator.DataSource, cancellationToken).ConfigureAwait(false) - transactionsBefore;
        var enqueue = Percentiles.Of([.. enqueueMilliseconds.SelectMany(list => list ?? [])]);
        return new ScenarioResult(
            "throughput",
            startedAt,
            loadBefore,
            loadAfter,
            new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["jobs"] = options.Jobs,
                ["daemons"] = options.Daemons,
                ["producers"] = options.Producers,
                ["duration_s"] = (int)options.Duration.TotalSeconds,
            },
            [
                new Metric("completed jobs/s (first enqueue to last CompleteJob)", completed / seconds, "jobs/s"),
                new Metric("enqueued jobs/s", enqueued / enqueueSeconds, "jobs/s"),
                new Metric("jobs enqueued", enqueued, "jobs"),
                new Metric("jobs completed", completed, "jobs"),
                new Metric("run stopped by the duration bound", enqueueFailed || completed < enqueued ? 1 : 0, "bool"),
                new Metric("enqueue call p50", enqueue.P50, "ms"),
                new Metric("enqueue call p90", enqueue.P90, "ms"),
                new Metric("enqueue call p99", enqueue.P99, "ms"),
                new Metric("database transactions per completed job (all, incl. idle polling)", completed > 0 ? (double)transactions / completed : double.NaN, "xact"),
                new Metric("elapsed", seconds, "s"),
            ]);
    }
}
