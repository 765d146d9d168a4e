using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>How a wait ended: a job, a cancellation, or a request to re-route (the queues changed).</summary>
internal sealed record AcquisitionOutcome(ProvisionerJob? Job, bool Reroute)
{
    public static AcquisitionOutcome Canceled { get; } = new(null, false);

    public static AcquisitionOutcome Rerouted { get; } = new(null, true);

    public static AcquisitionOutcome Acquired(ProvisionerJob job) => new(job, false);
}
