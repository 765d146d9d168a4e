namespace Provisioning.Coordinator.Jobs;

/// <summary>
/// A job's status. It is never stored on its own: the generated column provisioner_jobs.status derives it
/// from started_at, canceled_at, completed_at and error (migration 0001); <see cref="ProvisionerJobStatuses"/>
/// maps its text.
/// </summary>
public enum ProvisionerJobStatus
{
    /// <summary>Waiting for a daemon.</summary>
    Pending,

    /// <summary>Held by a daemon.</summary>
    Running,

    /// <summary>Canceled by a user while running; the daemon has not reported the end yet.</summary>
    Canceling,

    Succeeded,

    Failed,

    /// <summary>Canceled, before it started or by its daemon stopping it.</summary>
    Canceled,
}
