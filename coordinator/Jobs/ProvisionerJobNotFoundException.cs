namespace Provisioning.Coordinator.Jobs;

/// <summary>No job has this id.</summary>
public sealed class ProvisionerJobNotFoundException(Guid jobId)
    : ProvisionerJobException(jobId, $"Job {jobId} does not exist; check the id (jobs are listed by `provisioning jobs list`).");
