namespace Provisioning.FaultInjection.Checks;

/// <summary>
/// One line of a workspace's runs.log, written by the template's marker.sh: a provisioner began or ended, for which
/// build and resource, and in which job directory (…/jobs/{daemon}/{job}/…), which tells the daemon and the job.
/// </summary>
internal sealed record ProvisionerRun(string Phase, string Build, string Resource, string Action, double AtUnixSeconds, string JobDirectory)
{
    /// <summary>The daemon whose work directory ran it (the path segment after /jobs/).</summary>
    public string Daemon => Segment(JobDirectory, 0);

    /// <summary>The job's work directory name (the segment after the daemon's).</summary>
    public string Job => Segment(JobDirectory, 1);

    /// <summary>The daemon (0) or job (1) segment of a daemon's job work directory: {cache}/jobs/{daemon}/{job}/….</summary>
    public static string Segment(string jobDirectory, int index)
    {
        var parts = jobDirectory.Split('/');
        var jobs = Array.IndexOf(parts, "jobs");
        return jobs >= 0 && jobs + 1 + index < parts.Length ? parts[jobs + 1 + index] : "?";
    }
}
