using System.Diagnostics;

using Dapper;

namespace Provisioning.Bench;

/// <summary>
/// Enqueue-to-acquire latency: D daemons wait idle; one job at a time is enqueued (ledger insert, then
/// publish to Hangfire, which is what ProvisionerJobQueue.EnqueueAsync does) and timed from the enqueue's
/// return (the build request's answer) to the daemon holding the job. The ledger's started_at (the claim)
/// splits the wait into its phases.
/// </summary>
internal static class LatencyScenario
{
    public static async Task<ScenarioResult> RunAsync(BenchCoordinator coordinator, BenchOptions options, CancellationToken cancellationToken)
    {
        await using var fleet = await DaemonFleet.StartAsync(coordinator, options.IdleDaemons, "latency", cancellationToken).ConfigureAwait(false);
        const int WarmUp = 20;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(options.Duration);
        for (var i = 0; i < WarmUp; i++)
        {
            var job = await coordinator.Queue.EnqueueAsync(NoOpJobs.Create(), bounded.Token).ConfigureAwait(false);
            await fleet.ArrivalOf(job.Id).WaitAsync(bounded.Token).ConfigureAwait(false);
            await fleet.WaitForCompletedAsync(i + 1, bounded.Token).ConfigureAwait(false);
        }

        // Let every daemon open its next stream, so all of them are idle and waiting.
        await Task.Delay(500, bounded.Token).ConfigureAwait(false);
        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        var samples = new List<Sample>(options.Samples);
        var timedOut = false;
        try
        {
            for (var i = 0; i < options.Samples; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var wall0 = DateTime.UtcNow;
                var inserted = await coordinator.Queue.Ledger.InsertAsync(NoOpJobs.Create(), bounded.Token).ConfigureAwait(false);
                var t1 = Stopwatch.GetTimestamp();
                await coordinator.Queue.PublishAsync(inserted, bounded.Token).ConfigureAwait(false);
                var t2 = Stopwatch.GetTimestamp();
                var t3 = await fleet.ArrivalOf(inserted.Id).WaitAsync(bounded.Token).ConfigureAwait(false);
                fleet.Forget(inserted.Id);
                samples.Add(new Sample(inserted.Id, wall0, t0, t1, t2, t3));
                await fleet.WaitForCompletedAsync(WarmUp + i + 1, bounded.Token).ConfigureAwait(false);

                // One job at a time, and the daemon that ran it back in line before the next.
                await Task.Delay(10, bounded.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            timedOut = true;
        }

        var loadAfter = Load.Now();
        var claims = await ReadClaimTimesAsync(coordinator, [.. samples.Select(sample => sample.JobId)], cancellationToken).ConfigureAwait(false);
        var answerToHeld = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Published, sample.Held))]);
        var requestToHeld = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Start, sample.Held))]);
        var insert = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Start, sample.Inserted))]);
        var publish = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Inserted, sample.Published))]);
        var publishStartToClaim = Percentiles.Of([.. samples.Where(sample => claims.ContainsKey(sample.JobId)).Select(sample => (claims[sample.JobId] - sample.WallAt(sample.Inserted)).TotalMilliseconds)]);
        var claimToHeld = Percentiles.Of([.. samples.Where(sample => claims.ContainsKey(sample.JobId)).Select(sample => (sample.WallAt(sample.Held) - claims[sample.JobId]).TotalMilliseconds)]);

        List<Metric> metrics =
        [
            new("samples", samples.Count, "jobs"),
            new("run stopped by the duration bound", timedOut ? 1 : 0, "bool"),
        ];
        metrics.AddRange(Describe("enqueue answer -> daemon holds job", answerToHeld));
        metrics.AddRange(Describe("enqueue call -> daemon holds job", requestToHeld));
        metrics.AddRange(Describe("phase: ledger insert (queue upsert + insert)", insert));
        metrics.AddRange(Describe("phase: publish (Hangfire Create + hangfire_job_id)", publish));
        metrics.AddRange(Describe("phase: publish start -> ledger claim (create, NOTIFY, fetch)", publishStartToClaim));
        metrics.AddRange(Describe("phase: ledger claim -> daemon holds job (queue bookkeeping, stream write)", claimToHeld));
        return new ScenarioResult(
            "latency",
            startedAt,
            loadBefore,
            loadAfter,
            new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["samples"] = options.Samples,
                ["idle_daemons"] = options.IdleDaemons,
                ["duration_s"] = (int)options.Duration.TotalSeconds,
            },
            metrics);
    }

    private static IEnumerable<Metric> Describe(string name, Percentiles percentiles)
    {
        yield return new Metric($"{name} p50", percentiles.P50, "ms");
        yield return new Metric($"{name} p90", percentiles.P90, "ms");
        yield return new Metric($"{name} p99", percentiles.P99, "ms");
        yield return new Metric($"{name} max", percentiles.Max, "ms");
    }

    private static double Milliseconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static async Task<Dictionary<Guid, DateTime>> ReadClaimTimesAsync(BenchCoordinator coordinator, Guid[] jobIds, CancellationToken cancellationToken)
    {
        await using var connection = await coordinator.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(Guid Id, DateTime StartedAt)>(new CommandDefinition(
            "SELECT id, started_at FROM provisioner_jobs WHERE id = ANY(@Ids) AND started_at IS NOT NULL",
            new { Ids = jobIds },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToDictionary(row => row.Id, row => row.StartedAt.ToUniversalTime());
    }

    /// <summary>Stopwatch timestamps of one job; <see cref="WallAt"/> maps them onto the wall clock the database's now() also reads.</summary>
    private sealed record Sample(Guid JobId, DateTime WallStart, long Start, long Inserted, long Published, long Held)
    {
        public DateTime WallAt(long timestamp) => WallStart + Stopwatch.GetElapsedTime(Start, timestamp);
    }
}
