namespace Provisioning.Coordinator.Jobs;

/// <summary>A daemon touched a job it does not hold (never acquired, or lost after a reset).</summary>
public sealed class ProvisionerJobOwnershipException(Guid jobId, Guid daemonId)
    : ProvisionerJobException(jobId, $"Job {jobId} is not held by daemon {daemonId}; a daemon can only update, complete or fail the jobs it acquired.")
{
    public Guid DaemonId { get; } = daemonId;
}
