using System.Text.Json;

using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Fleet;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.FaultInjection.Checks;

/// <summary>
/// Checks a round's invariants (<see cref="Invariants"/>) against what is really there: the coordinator's API for jobs
/// and states, the template's files on disk for resources, lock collisions and which daemon ran what.
/// </summary>
internal sealed class InvariantChecker(CoordinatorApi api)
{
    /// <summary>A revoked daemon may still be finishing what it started this long after the revocation ("within seconds").</summary>
    private const double RevocationGraceSeconds = 5;

    /// <summary>A check that meets a coordinator outage (a fault that hit meanwhile) asks again for this long.</summary>
    private static readonly TimeSpan OutageBound = TimeSpan.FromMinutes(3);

    /// <summary>
    /// The workspace's latest state names every resource whose marker exists. A missing resource is reported once per
    /// round (<paramref name="reported"/>): as a violation, or as a note when the job a SIGKILLed daemon was running made it.
    /// </summary>
    public async Task<CheckResult> CheckStateAsync(int round, FaultRecord fault, WorkspaceDisk disk, string after, ISet<string> reported, CancellationToken cancellationToken)
    {
        var workspace = await RetryAsync(() => api.FindWorkspaceAsync(disk.Workspace, cancellationToken), cancellationToken).ConfigureAwait(false);
        var latest = workspace?.LatestBuild;
        var inState = latest is null
            ? []
            : await RetryAsync(() => ResourcesInStateAsync(disk.Workspace, latest.BuildNumber, cancellationToken), cancellationToken).ConfigureAwait(false);
        var markers = disk.Markers();
        var missing = markers.Where(marker => !inState.Contains(marker.Name) && reported.Add(marker.Name + "@" + marker.Job)).ToList();
        if (missing.Count == 0)
        {
            return CheckResult.None;
        }

        var (diedWithDaemon, lost) = Split(fault, missing);
        var state = latest is null
            ? "the workspace is gone"
            : $"the state of the latest build #{latest.BuildNumber} ({latest.Transition}, job {latest.Job.Status}{(latest.Job.ErrorCode is { } code ? " " + code : string.Empty)}) names only {{{string.Join(", ", inState)}}}{(latest.HasState ? string.Empty : " (it recorded no state)")}";
        var violations = lost.Count == 0
            ? []
            : new[] { new Violation(round, fault.Name, Invariants.StateNamesResources, $"after {after}: markers {{{string.Join(", ", lost)}}} exist on disk, but {state}") };
        return new CheckResult(violations, [.. diedWithDaemon.Select(marker => $"after {after}: {marker} is in no state: its job's daemon was SIGKILLed mid-build; {state}")]);
    }

    /// <summary>After the round's builds (fleet healed): every job ended, no two applies overlapped, a revoked daemon stopped working.</summary>
    public static IReadOnlyList<Violation> CheckRound(int round, FaultRecord fault, WorkspaceDisk disk, IReadOnlyList<BuildOutcome> outcomes)
    {
        var violations = new List<Violation>();
        void Add(string invariant, string evidence) => violations.Add(new Violation(round, fault.Name, invariant, evidence));

        foreach (var outcome in outcomes.Where(outcome => !outcome.Ended))
        {
            Add(Invariants.JobEnded, $"{outcome.Transition} build #{outcome.BuildNumber}: job {outcome.JobId} had not ended within the bound (then canceled; now {outcome.Status})");
        }

        foreach (var collision in disk.LockViolations())
        {
            Add(Invariants.OneDaemonAtATime, $"a provisioner found the workspace's lock taken by another apply of the same workspace: {collision}");
        }

        if (fault.RevokedDaemon is { } revoked && fault.RevokedAtUnixSeconds is { } revokedAt)
        {
            var jobAtRevocation = fault.JobAtInjection?.ToString() ?? string.Empty;
            foreach (var late in disk.Runs()
                .Where(run => run.Daemon == revoked && run.Phase == "begin" && run.AtUnixSeconds > revokedAt + RevocationGraceSeconds && !SameJob(run.Job, jobAtRevocation))
                .GroupBy(run => run.Job))
            {
                var first = late.First();
                Add(Invariants.RevokedKeyStopsWork, FormattableString.Invariant($"daemon {revoked} ran build {first.Build} (job {first.Job}) {first.AtUnixSeconds - revokedAt:0.0} s after its key was deleted"));
            }
        }

        return violations;
    }

    /// <summary>
    /// After the round's builds (fleet healed, late reports delivered): every job that had ended still shows the same
    /// outcome and end time, so it ended exactly once; a late report may add its state to the build, never end the job again.
    /// </summary>
    public async Task<IReadOnlyList<Violation>> CheckEndedOnceAsync(int round, FaultRecord fault, IReadOnlyList<BuildOutcome> outcomes, CancellationToken cancellationToken)
    {
        var violations = new List<Violation>();
        foreach (var outcome in outcomes.Where(outcome => outcome is { Ended: true, Job: not null }))
        {
            var now = await RetryAsync(() => api.GetJobAsync(outcome.JobId, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (now.Status != outcome.Job!.Status || now.CompletedAt != outcome.Job.CompletedAt)
            {
                violations.Add(new Violation(round, fault.Name, Invariants.JobEndedOnce, FormattableString.Invariant(
                    $"{outcome.Transition} build #{outcome.BuildNumber}: job {outcome.JobId} ended {outcome.Job.Status} at {outcome.Job.CompletedAt:O}, and later shows {now.Status} at {now.CompletedAt:O}")));
            }
        }

        return violations;
    }

    /// <summary>
    /// The resources the workspace's latest state holds as tainted, read before the delete. Terraform runs no destroy-time
    /// provisioner for a tainted resource, and the template's markers are removed only by destroy-time provisioners, so a
    /// tainted resource's marker outlives a correct delete (seen when an interrupt hit a create-time provisioner: the
    /// container fault tests' README, "the paused daemon's late state", and the Terraform run recorded there).
    /// </summary>
    public async Task<IReadOnlySet<string>> TaintedInLatestStateAsync(string workspace, CancellationToken cancellationToken)
    {
        var latest = (await RetryAsync(() => api.FindWorkspaceAsync(workspace, cancellationToken), cancellationToken).ConfigureAwait(false))?.LatestBuild;
        if (latest is null)
        {
            return new HashSet<string>();
        }

        return await RetryAsync(async () =>
        {
            using var state = await api.GetStateAsync(workspace, latest.BuildNumber, cancellationToken).ConfigureAwait(false);
            var tainted = new HashSet<string>(StringComparer.Ordinal);
            if (state is not null && state.RootElement.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array)
            {
                foreach (var resource in resources.EnumerateArray())
                {
                    if (resource.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array
                        && instances.EnumerateArray().Any(instance => instance.TryGetProperty("status", out var status) && status.GetString() == "tainted"))
                    {
                        tainted.Add(resource.GetProperty("name").GetString() ?? string.Empty);
                    }
                }
            }

            return (IReadOnlySet<string>)tainted;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// After the `delete` run with a healthy fleet: it succeeded, the workspace is gone, no marker is left, but for the
    /// markers of resources that were tainted in the state it destroyed (<paramref name="taintedBeforeDelete"/>): notes.
    /// </summary>
    public async Task<CheckResult> CheckDeleteAsync(int round, FaultRecord fault, WorkspaceDisk disk, BuildOutcome delete, IReadOnlySet<string> taintedBeforeDelete, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(taintedBeforeDelete);
        var violations = new List<Violation>();
        void Add(string evidence) => violations.Add(new Violation(round, fault.Name, Invariants.DeleteLeavesNothing, evidence));
        if (delete.Status != "succeeded")
        {
            Add($"the delete with a healthy fleet did not succeed: {delete}");
        }

        var (diedWithDaemon, others) = Split(fault, disk.Markers());
        var taintedLeft = others.Where(marker => taintedBeforeDelete.Contains(marker.Name)).ToList();
        var left = others.Except(taintedLeft).ToList();
        if (left.Count > 0)
        {
            Add($"markers {{{string.Join(", ", left)}}} are left after the delete (build #{delete.BuildNumber} {delete.Status}): resources the workspace's state had forgotten");
        }

        if (delete.Status == "succeeded" && await RetryAsync(() => api.FindWorkspaceAsync(disk.Workspace, cancellationToken), cancellationToken).ConfigureAwait(false) is not null)
        {
            Add("the delete succeeded but the workspace is still listed");
        }

        return new CheckResult(violations, [
            .. diedWithDaemon.Select(marker => $"after the delete: {marker} is left behind: its job's daemon was SIGKILLed mid-build"),
            .. taintedLeft.Select(marker => $"after the delete: {marker} is left behind: the state held its resource as tainted (an interrupt hit its create-time provisioner), and Terraform runs no destroy-time provisioner for a tainted resource"),
        ]);
    }

    /// <summary>Which daemon ran each job's provisioners (from runs.log), for the printed record.</summary>
    public static IReadOnlyList<string> History(WorkspaceDisk disk) =>
        [.. disk.Runs()
            .GroupBy(run => run.Job)
            .Select(job => (First: job.Min(run => run.AtUnixSeconds), Line:
                $"build {job.First().Build} (job {job.Key}) ran {job.Count(run => run.Phase == "begin")} provisioner(s) on {string.Join(" and ", job.Select(run => run.Daemon).Distinct())}"
                + (job.Count(run => run.Phase == "begin") > job.Count(run => run.Phase == "end") ? ", one cut off" : string.Empty)))
            .OrderBy(job => job.First)
            .Select(job => job.Line)];

    /// <summary>Splits markers into those made by the job a SIGKILLed daemon was running (see <see cref="FaultRecord.KilledDaemons"/>) and the rest.</summary>
    private static (IReadOnlyList<Marker> DiedWithDaemon, IReadOnlyList<Marker> Others) Split(FaultRecord fault, IEnumerable<Marker> markers)
    {
        var killedJob = fault.JobAtInjection?.ToString() ?? string.Empty;
        var list = markers.ToList();
        var died = list.Where(marker => fault.KilledDaemons.Contains(marker.Daemon) && SameJob(marker.Job, killedJob)).ToList();
        return (died, [.. list.Except(died)]);
    }

    private async Task<IReadOnlyList<string>> ResourcesInStateAsync(string workspace, int buildNumber, CancellationToken cancellationToken)
    {
        using var state = await api.GetStateAsync(workspace, buildNumber, cancellationToken).ConfigureAwait(false);
        if (state is null || !state.RootElement.TryGetProperty("resources", out var resources) || resources.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return [.. resources.EnumerateArray()
            .Where(resource => resource.TryGetProperty("instances", out var instances) && instances.GetArrayLength() > 0)
            .Select(resource => resource.GetProperty("name").GetString() ?? string.Empty)
            .Distinct()
            .Order(StringComparer.Ordinal)];
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + OutageBound;
        while (true)
        {
            try
            {
                return await read().ConfigureAwait(false);
            }
            catch (Exception exception) when (CoordinatorApi.IsTransient(exception) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Job ids appear as work directory names; compared without regard to dashes or case.</summary>
    private static bool SameJob(string directory, string jobId) =>
        jobId.Length > 0 && directory.Replace("-", string.Empty, StringComparison.Ordinal).Equals(jobId.Replace("-", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
}
