namespace Provisioning.Coordinator.Jobs;

/// <summary>
/// What happens when a job ends, whichever path ends it (a daemon's report, a cancel while pending, a release of a
/// canceled job, the reaper, a job born ended). These effects run as database triggers in the statement that sets
/// <c>completed_at</c>, so no path can end a job without them and no crash can come between the two; this class
/// names them, so a reader looking for them in C# finds them here (STYLE.md, "side effects you can find from C#").
/// <c>JobEndEffectsTests</c> checks that the database has exactly these triggers.
/// </summary>
public static class JobEndEffects
{
    /// <summary>
    /// The job's workspace build stops being active (<c>workspace_builds.active = false</c>), which frees the
    /// workspace for its next build (invariant 4). Migration 0001, function <c>workspace_builds_deactivate</c>.
    /// </summary>
    public const string DeactivateBuild = "provisioner_jobs_completed";

    /// <summary>
    /// On success only: an import whose version asked for it activates the version (<c>templates.active_version_id</c>);
    /// a <c>delete</c> build marks its workspace deleted. On every end: NOTIFY <c>provisioner_job_logs</c> with the job
    /// id, so log followers on every replica learn that the job ended. Migration 0004, function <c>provisioner_jobs_on_completed</c>.
    /// </summary>
    public const string ActivateVersionDeleteWorkspaceNotify = "provisioner_jobs_on_completed";

    /// <summary>
    /// Not an end, but its announcement: a cancel request (a running job turning canceling) NOTIFYs
    /// <c>provisioner_job_logs</c>, so followers show it at once. Migration 0004, function <c>provisioner_jobs_on_canceled</c>.
    /// </summary>
    public const string NotifyCancelRequested = "provisioner_jobs_on_canceled";

    /// <summary>Every trigger on provisioner_jobs, by name.</summary>
    public static IReadOnlyList<string> Triggers { get; } = [DeactivateBuild, ActivateVersionDeleteWorkspaceNotify, NotifyCancelRequested];
}
