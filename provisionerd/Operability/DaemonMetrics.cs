using Prometheus;

namespace Provisioning.Daemon.Operability;

/// <summary>
/// The daemon's Prometheus metrics, in a registry of its own so that several daemons in one process
/// (tests, an all-in-one server) do not mix their numbers.
/// </summary>
internal sealed class DaemonMetrics
{
    private readonly Counter _jobs;
    private readonly Histogram _duration;
    private readonly Gauge _busySlots;
    private readonly Gauge _slots;
    private readonly Gauge _connected;

    public DaemonMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        if (registry is null)
        {
            // The process's own health beside the daemon's: CPU, memory, GC, threads (process_*, dotnet_*). Not into a
            // registry the caller passed (the built-in daemon shares the process, and its server already reports them).
            DotNetStats.Register(Registry);
        }
        _jobs = factory.CreateCounter("provisionerd_jobs_total", "Jobs this daemon finished, by type and outcome (succeeded, failed, canceled).", "type", "outcome");
        _duration = factory.CreateHistogram("provisionerd_job_duration_seconds", "Time from acquiring a job to its acknowledged terminal report.", new HistogramConfiguration
        {
            LabelNames = ["type", "outcome"],
            Buckets = Histogram.ExponentialBuckets(0.5, 2, 14),
        });
        _busySlots = factory.CreateGauge("provisionerd_busy_slots", "Slots running a job now.");
        _slots = factory.CreateGauge("provisionerd_slots", "Slots this daemon has.");
        _connected = factory.CreateGauge("provisionerd_coordinator_connected", "1 when the last call reached the coordinator, else 0.");
    }

    public CollectorRegistry Registry { get; }

    public void SetSlots(int slots) => _slots.Set(slots);

    public void SetConnected(bool connected) => _connected.Set(connected ? 1 : 0);

    public void JobStarted() => _busySlots.Inc();

    public void JobFinished(string type, string outcome, TimeSpan duration)
    {
        _busySlots.Dec();
        _jobs.WithLabels(type, outcome).Inc();
        _duration.WithLabels(type, outcome).Observe(duration.TotalSeconds);
    }

    /// <summary>How many jobs of a type finished with an outcome (for tests and diagnostics).</summary>
    public double JobCount(string type, string outcome) => _jobs.WithLabels(type, outcome).Value;

    public double BusySlots => _busySlots.Value;
}
