using Dapper;

using Microsoft.Extensions.Options;

using Prometheus;

using Provisioning.Coordinator.Database;
using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Api.Metrics;

/// <summary>
/// The coordinator's Prometheus metrics, read from the ledger at each scrape: queue depth per tag set (an
/// autoscaling signal), jobs by status, connected daemons, and histograms of acquisition latency (created →
/// started) and job duration (started → completed) for jobs that started or ended since the previous scrape (up to two seconds ago, so that
/// transactions in flight have committed).
/// Every replica reads the same database, so each reports the whole fleet: scrape one replica (or aggregate
/// with max, not sum).
/// </summary>
internal sealed class CoordinatorMetrics
{
    private static readonly double[] LatencyBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
    private static readonly TimeSpan CommitLag = TimeSpan.FromSeconds(2);
    private static readonly double[] DurationBuckets = [0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private readonly CoordinatorDatabase _database;
    private readonly IOptions<CoordinatorOptions> _options;
    private readonly Gauge _queueDepth;
    private readonly Gauge _jobs;
    private readonly Gauge _daemons;
    private readonly Histogram _acquisitionLatency;
    private readonly Histogram _jobDuration;
    private readonly SemaphoreSlim _collecting = new(1, 1);
    private DateTime? _startedWatermark;
    private DateTime? _completedWatermark;

    public CoordinatorMetrics(CoordinatorDatabase database, IOptions<CoordinatorOptions> options)
    {
        _database = database;
        _options = options;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _queueDepth = factory.CreateGauge("provisioning_queue_depth", "Pending jobs per queue (provisioner type and tag set).", "queue", "provisioner", "tags");
        _jobs = factory.CreateGauge("provisioning_jobs", "Jobs in the ledger by status.", "status");
        _daemons = factory.CreateGauge("provisioning_daemons_connected", "Provisioner daemons seen within --job-hang-timeout.");
        _acquisitionLatency = factory.CreateHistogram(
            "provisioning_job_acquisition_latency_seconds", "Time from a job's creation until a daemon acquired it.", new HistogramConfiguration { Buckets = LatencyBuckets, LabelNames = ["type"] });
        _jobDuration = factory.CreateHistogram(
            "provisioning_job_duration_seconds", "Time from a job's acquisition until it ended.", new HistogramConfiguration { Buckets = DurationBuckets, LabelNames = ["type", "status"] });
        foreach (var status in Enum.GetValues<ProvisionerJobStatus>())
        {
            _jobs.WithLabels(status.ToText()).Set(0);
        }

        // The process's own health beside the fleet's: CPU, memory, GC, threads (process_*, dotnet_*).
        DotNetStats.Register(Registry);
        Registry.AddBeforeCollectCallback(CollectAsync);
    }

    public CollectorRegistry Registry { get; }

    private async Task CollectAsync(CancellationToken cancellationToken)
    {
        await _collecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await _database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var queues = await connection.QueryAsync<(string Name, string Provisioner, string Tags, long Pending)>(new CommandDefinition(
                """
                SELECT q.name, q.provisioner, q.tags::text,
                       (SELECT count(*) FROM provisioner_jobs j WHERE j.queue = q.name AND j.started_at IS NULL AND j.completed_at IS NULL AND j.canceled_at IS NULL)
                FROM provisioner_queues q
                """,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var queue in queues)
            {
                _queueDepth.WithLabels(queue.Name, queue.Provisioner, ProvisionerTags.ToJson(ProvisionerTags.FromJson(queue.Tags))).Set(queue.Pending);
            }

            var statuses = await connection.QueryAsync<(string Status, long Count)>(new CommandDefinition(
                "SELECT status, count(*) FROM provisioner_jobs GROUP BY status", cancellationToken: cancellationToken)).ConfigureAwait(false);
            var counts = statuses.ToDictionary(row => row.Status, row => row.Count, StringComparer.Ordinal);
            foreach (var status in Enum.GetValues<ProvisionerJobStatus>())
            {
                _jobs.WithLabels(status.ToText()).Set(counts.GetValueOrDefault(status.ToText()));
            }

            _daemons.Set(await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM provisioner_daemons WHERE last_seen_at > now() - @OfflineAfter",
                new { OfflineAfter = _options.Value.JobHangTimeout }, cancellationToken: cancellationToken)).ConfigureAwait(false));

            // Timestamps are set at a transaction's start and become visible at its commit; a window that ends a
            // little in the past lets short transactions commit before their jobs are counted.
            var now = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
                "SELECT now() - @Lag", new { Lag = CommitLag }, cancellationToken: cancellationToken)).ConfigureAwait(false);

            // The first scrape only sets the watermarks: history before this process started is not replayed.
            if (_startedWatermark is { } startedSince && _completedWatermark is { } completedSince)
            {
                var started = await connection.QueryAsync<(string Type, double Seconds)>(new CommandDefinition(
                    "SELECT type, extract(epoch FROM started_at - created_at)::float8 FROM provisioner_jobs WHERE started_at > @Since AND started_at <= @Now",
                    new { Since = startedSince, Now = now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                foreach (var job in started)
                {
                    _acquisitionLatency.WithLabels(job.Type).Observe(job.Seconds);
                }

                var completed = await connection.QueryAsync<(string Type, string Status, double Seconds)>(new CommandDefinition(
                    """
                    SELECT type, status, extract(epoch FROM completed_at - started_at)::float8 FROM provisioner_jobs
                    WHERE started_at IS NOT NULL AND completed_at > @Since AND completed_at <= @Now
                    """,
                    new { Since = completedSince, Now = now }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                foreach (var job in completed)
                {
                    _jobDuration.WithLabels(job.Type, job.Status).Observe(job.Seconds);
                }
            }

            _startedWatermark = now;
            _completedWatermark = now;
        }
        finally
        {
            _collecting.Release();
        }
    }
}
