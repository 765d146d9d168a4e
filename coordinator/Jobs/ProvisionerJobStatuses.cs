namespace Provisioning.Coordinator.Jobs;

/// <summary>The text form of <see cref="ProvisionerJobStatus"/> used by the database and the API.</summary>
public static class ProvisionerJobStatuses
{
    public static ProvisionerJobStatus Parse(string value) => value switch
    {
        "pending" => ProvisionerJobStatus.Pending,
        "running" => ProvisionerJobStatus.Running,
        "canceling" => ProvisionerJobStatus.Canceling,
        "succeeded" => ProvisionerJobStatus.Succeeded,
        "failed" => ProvisionerJobStatus.Failed,
        "canceled" => ProvisionerJobStatus.Canceled,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown job status; the database schema is newer than this build."),
    };

    public static string ToText(this ProvisionerJobStatus status) => status switch
    {
        ProvisionerJobStatus.Pending => "pending",
        ProvisionerJobStatus.Running => "running",
        ProvisionerJobStatus.Canceling => "canceling",
        ProvisionerJobStatus.Succeeded => "succeeded",
        ProvisionerJobStatus.Failed => "failed",
        ProvisionerJobStatus.Canceled => "canceled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>Whether the job has ended (nothing will change it any more).</summary>
    public static bool IsTerminal(this ProvisionerJobStatus status) =>
        status is ProvisionerJobStatus.Succeeded or ProvisionerJobStatus.Failed or ProvisionerJobStatus.Canceled;
}
