using System.Diagnostics;

using Dapper;

namespace Provisioning.Bench;

/// <summary>
/// Enqueue-to-acquire latency: D daemons wait idle; one job at a time is enqueued as a build request does
/// it (ledger insert and Hangfire publish in the request's transaction, then commit) and timed from the
/// commit's return (the build request's answer) to the daemon holding the job. The ledger's started_at
/// (the claim) splits the wait into its phases.
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
                var job = NoOpJobs.Create();
                await coordinator.Queue.Ledger.EnsureQueueAsync(job.Provisioner, job.Tags, bounded.Token).ConfigureAwait(false);
                long t1, t2, t3;
                await using (var connection = await coordinator.DataSource.OpenConnectionAsync(bounded.Token).ConfigureAwait(false))
                {
                    await using var transaction = await connection.BeginTransactionAsync(bounded.Token).ConfigureAwait(false);
                    var inserted = await coordinator.Queue.Ledger.InsertAsync(connection, transaction, job, bounded.Token).ConfigureAwait(false);
                    t1 = Stopwatch.GetTimestamp();
                    await coordinator.Queue.PublishAsync(connection, transaction, inserted, bounded.Token).ConfigureAwait(false);
                    t2 = Stopwatch.GetTimestamp();
                    await transaction.CommitAsync(bounded.Token).ConfigureAwait(false);
                    t3 = Stopwatch.GetTimestamp();
                }

                var t4 = await fleet.ArrivalOf(job.Id).WaitAsync(bounded.Token).ConfigureAwait(false);
                fleet.Forget(job.Id);
                samples.Add(new Sample(job.Id, wall0, t0, t1, t2, t3, t4));
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
        var answerToHeld = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Answered, sample.Held))]);
        var requestToHeld = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Start, sample.Held))]);
        var insert = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Start, sample.Inserted))]);
        var publish = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Inserted, sample.Published))]);
        var commit = Percentiles.Of([.. samples.Select(sample => Milliseconds(sample.Published, sample.Answered))]);
        var commitStartToClaim = Percentiles.Of([.. samples.Where(sample => claims.ContainsKey(sample.JobId)).Select(sample => (claims[sample.JobId] - sample.WallAt(sample.Published)).TotalMilliseconds)]);
        var claimToHeld = Percentiles.Of([.. samples.Where(sample => claims.ContainsKey(sample.JobId)).Select(sample => (sample.WallAt(sample.Held) - claims[sample.JobId]).TotalMilliseconds)]);

        List<Metric> metrics =
        [
            new("samples", samples.Count, "jobs"),
            new("run stopped by the duration bound", timedOut ? 1 : 0, "bool"),
        ];
        metrics.AddRange(Describe("enqueue answer -> daemon holds job", answerToHeld));
        metrics.AddRange(Describe("enqueue call -> daemon holds job", requestToHeld));
        metrics.AddRange(Describe("phase: open, begin, ledger insert", insert));
        metrics.AddRange(Describe("phase: publish (Hangfire rows + link + NOTIFY, one statement)", publish));
        metrics.AddRange(Describe("phase: commit (the answer)", commit));
        metrics.AddRange(Describe("phase: commit start -> ledger claim (NOTIFY, wake-up, claim statement)", commitStartToClaim));
        metrics.AddRange(Describe("phase: ledger claim -> daemon holds job (hand-over, stream write)", claimToHeld));
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
    private sealed record Sample(Guid JobId, DateTime WallStart, long Start, long Inserted, long Published, long Answered, long Held)
    {
        public DateTime WallAt(long timestamp) => WallStart + Stopwatch.GetElapsedTime(Start, timestamp);
    }
}
