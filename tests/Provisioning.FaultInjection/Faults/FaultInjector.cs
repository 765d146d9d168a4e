using System.Diagnostics;

using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Fleet;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.FaultInjection.Faults;

/// <summary>
/// Injects one fault into the fleet at a random moment of a round's builds: it picks one of the round's builds, waits
/// until that build's job runs, then a random delay up to the template's sleep (a start build's apply lasts about that
/// long after init and plan, a stop build's less: the fault lands mid-init, mid-apply, mid-destroy, or just after the
/// build), then hits the process that matters
/// for that job: the daemon running it, the coordinator, the database, or the daemon's key. Each fault ends with the
/// process it hit back in service, as a supervisor would have it, except the revoked daemon, which is replaced.
/// All randomness comes from the run's seeded <see cref="Random"/>, drawn before any wait, so a seed replays the same
/// faults at the same offsets.
/// </summary>
internal sealed class FaultInjector(ProvisioningFleet fleet, FaultRunOptions options, RunLog log)
{
    private static readonly TimeSpan RunningBound = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(15);

    /// <summary>How long the coordinator may take to act on a SIGSTOPped daemon's job: its reaper runs once a minute.</summary>
    private TimeSpan ReaperBound => options.HangTimeout + TimeSpan.FromSeconds(75);

    /// <summary>
    /// Injects the fault; <paramref name="hitting"/> completes the moment it hits (the round then waits for this
    /// method's end before it checks a state or starts its next build).
    /// </summary>
    public async Task<FaultRecord> InjectAsync(FaultKind kind, WorkspaceDriver driver, int builds, Task buildsDone, TaskCompletionSource hitting, Random random, CancellationToken cancellationToken)
    {
        var build = random.Next(1, builds + 1);
        var delay = TimeSpan.FromMilliseconds(random.Next(0, options.SleepSeconds * 1000));
        var fallbackDaemon = random.Next(0, 1 << 16);
        await WaitUntilRunningAsync(driver, build, buildsDone, cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(Task.Delay(delay, cancellationToken), buildsDone).ConfigureAwait(false);

        var (job, holder) = await CurrentJobAsync(driver, cancellationToken).ConfigureAwait(false);
        var daemon = holder ?? fleet.Daemons[fallbackDaemon % fleet.Daemons.Count];
        var during = job is null
            ? "no job running"
            : $"job {job.Id} of build {driver.CurrentBuild} {job.Status} on {holder?.Name ?? "no daemon we could tell"}"
                + (job.WorkerId is null && job.Status == "running" ? " (the API names no worker for it)" : string.Empty);
        log.Write($"  fault {FaultKinds.Name(kind)} {delay.TotalSeconds:0.0} s into build {build}'s run: {during}");
        hitting.TrySetResult();
        var record = kind switch
        {
            FaultKind.DaemonKill => await KillDaemonAsync(daemon, cancellationToken).ConfigureAwait(false),
            FaultKind.DaemonStop => await StopDaemonAsync(daemon, job, driver, cancellationToken).ConfigureAwait(false),
            FaultKind.CoordinatorKill => await KillCoordinatorAsync(cancellationToken).ConfigureAwait(false),
            FaultKind.PostgresRestart => await RestartPostgresAsync(cancellationToken).ConfigureAwait(false),
            FaultKind.KeyRevoke => await RevokeKeyAsync(daemon, job, driver, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        record = record with { Description = $"{record.Description} ({during})", JobAtInjection = job?.Id };
        log.Write($"  fault done: {record}");
        return record;
    }

    private async Task<FaultRecord> KillDaemonAsync(DaemonProcess daemon, CancellationToken cancellationToken)
    {
        var processId = daemon.Process?.Id;
        daemon.Process?.Signal(Signals.Kill);
        var exited = daemon.Process is null || await daemon.Process.WaitForExitAsync(ExitBound, cancellationToken).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        fleet.StartDaemon(daemon);
        return new FaultRecord(FaultKind.DaemonKill, $"SIGKILLed daemon {daemon.Name} (pid {processId}{(exited ? string.Empty : ", did not exit")}), started it again 1 s later as pid {daemon.Process?.Id}")
        {
            KilledDaemons = [daemon.Name],
        };
    }

    private async Task<FaultRecord> StopDaemonAsync(DaemonProcess daemon, JobView? job, WorkspaceDriver driver, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        daemon.Process?.Signal(Signals.Stop);
        daemon.Stopped = true;

        // Past the hang timeout, and until the coordinator has acted on the job (its reaper runs once a minute), so
        // that the daemon wakes up to a job the coordinator already ended.
        var outcome = "no job to wait for";
        if (job is not null)
        {
            var (seen, ended) = await driver.WaitForEndAsync(job.Id, ReaperBound, cancellationToken).ConfigureAwait(false);
            outcome = ended ? $"its job {seen!.Status} meanwhile ({seen.ErrorCode ?? seen.Error ?? "no error given"})" : $"its job still {seen?.Status} after {ReaperBound.TotalSeconds:0} s";
        }

        var hang = options.HangTimeout + TimeSpan.FromSeconds(2) - clock.Elapsed;
        if (hang > TimeSpan.Zero)
        {
            await Task.Delay(hang, cancellationToken).ConfigureAwait(false);
        }

        daemon.Process?.Signal(Signals.Continue);
        daemon.Stopped = false;
        return new FaultRecord(FaultKind.DaemonStop, $"SIGSTOPped daemon {daemon.Name} for {clock.Elapsed.TotalSeconds:0} s (hang timeout {options.HangTimeout.TotalSeconds:0} s), then SIGCONT; {outcome}");
    }

    private async Task<FaultRecord> KillCoordinatorAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var server = fleet.Server!;
        var processId = server.Id;
        server.Signal(Signals.Kill);
        await server.WaitForExitAsync(ExitBound, cancellationToken).ConfigureAwait(false);
        fleet.StartServer();
        await fleet.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        return new FaultRecord(FaultKind.CoordinatorKill, $"SIGKILLed the coordinator (pid {processId}), started it again: ready {clock.Elapsed.TotalSeconds:0.0} s after the kill");
    }

    private async Task<FaultRecord> RestartPostgresAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await fleet.Postgres.RestartAsync(cancellationToken).ConfigureAwait(false);
        return new FaultRecord(FaultKind.PostgresRestart, $"pg_ctl restart -m fast took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private async Task<FaultRecord> RevokeKeyAsync(DaemonProcess daemon, JobView? job, WorkspaceDriver driver, CancellationToken cancellationToken)
    {
        var revoked = await fleet.RunCliAsync(["provisioner", "keys", "delete", daemon.KeyName], cancellationToken).ConfigureAwait(false);
        var revokedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        if (revoked.ExitCode != 0)
        {
            throw new InvalidOperationException($"`provisioning provisioner keys delete {daemon.KeyName}` failed: {revoked.Output}");
        }

        var replacement = await fleet.AddDaemonAsync(cancellationToken).ConfigureAwait(false);

        // The revoked daemon stays up until the job it held ended (by its report, or the reaper), as an operator who
        // revoked a key would leave a machine to be reclaimed; then it is stopped (SIGTERM, then SIGKILL).
        var outcome = "it held no job";
        if (job is not null)
        {
            var (seen, ended) = await driver.WaitForEndAsync(job.Id, ReaperBound, cancellationToken).ConfigureAwait(false);
            outcome = ended ? $"its job then {seen!.Status}" : $"its job still {seen?.Status} after {ReaperBound.TotalSeconds:0} s";
        }

        var exitedOnItsOwn = daemon.Process is { HasExited: true };
        var exitCode = await fleet.RetireDaemonAsync(daemon, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return new FaultRecord(FaultKind.KeyRevoke, $"deleted key {daemon.KeyName} of daemon {daemon.Name}; started {replacement.Name} with a new key; {outcome}; "
            + $"the revoked daemon {(exitedOnItsOwn ? "had exited on its own" : "was still running and was stopped")} (exit code {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none: killed"})")
        {
            RevokedDaemon = daemon.Name,
            RevokedAtUnixSeconds = revokedAt,
            KilledDaemons = exitCode is null ? [daemon.Name] : [],
        };
    }

    /// <summary>Waits (bounded) until the round's <paramref name="build"/>-th build has a running job, or the builds are over.</summary>
    private async Task WaitUntilRunningAsync(WorkspaceDriver driver, int build, Task buildsDone, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + RunningBound;
        while (DateTime.UtcNow < deadline && !buildsDone.IsCompleted)
        {
            var (job, _) = driver.StartedBuilds >= build ? await CurrentJobAsync(driver, cancellationToken).ConfigureAwait(false) : (null, null);
            if (job is { Status: "running" } || driver.StartedBuilds > build)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The round's current job and the fleet daemon that holds it, as far as the coordinator can say right now.</summary>
    private async Task<(JobView? Job, DaemonProcess? Daemon)> CurrentJobAsync(WorkspaceDriver driver, CancellationToken cancellationToken)
    {
        if (driver.CurrentJobId is not { } id)
        {
            return (null, null);
        }

        try
        {
            var job = await fleet.Api.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
            var daemon = job.WorkerId is { } worker ? await fleet.FindDaemonAsync(worker, cancellationToken).ConfigureAwait(false) : null;

            // Seen after a coordinator restart: a running job whose worker the API does not name. The template's own
            // record (the daemon's work directory in runs.log) still tells which daemon runs it once it applies.
            daemon ??= new WorkspaceDisk(fleet.MarkersRoot, driver.Workspace).Runs()
                .Where(run => Guid.TryParse(run.Job, out var runJob) && runJob == job.Id)
                .Select(run => fleet.Daemons.FirstOrDefault(candidate => candidate.Name == run.Daemon))
                .LastOrDefault(candidate => candidate is not null);
            return (job, daemon);
        }
        catch (Exception exception) when (CoordinatorApi.IsTransient(exception) && !cancellationToken.IsCancellationRequested)
        {
            return (null, null);
        }
    }
}
