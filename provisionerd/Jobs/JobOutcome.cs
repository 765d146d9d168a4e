namespace Provisioning.Daemon.Jobs;

/// <summary>How a job ended, as the daemon reported it (metric label values).</summary>
internal static class JobOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Canceled = "canceled";

    /// <summary>The coordinator refused the job's reports, or the daemon gave up at shutdown.</summary>
    public const string Abandoned = "abandoned";
}
