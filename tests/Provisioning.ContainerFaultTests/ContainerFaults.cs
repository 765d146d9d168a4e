using System.Diagnostics;

using Provisioning.ContainerFaultTests.Containers;
using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Fleet;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// The container faults, each a <see cref="RoundFault"/> for the fault suite's rounds: it waits until the round's
/// <c>build</c>-th build has a running job, then <c>delay</c> more (so the fault lands mid-apply), then hits a whole
/// machine: the database's container or the container of the daemon holding the job. Each ends with that machine
/// back in service. Names are those printed with violations: `postgres-pause`, `postgres-stop`,
/// `daemon-container-kill`, `daemon-container-pause`.
/// </summary>
internal sealed class ContainerFaults(ContainerFleet fleet, FaultRunOptions options, RunLog log)
{
    private static readonly TimeSpan RunningBound = TimeSpan.FromSeconds(90);

    /// <summary>How long a paused database stays frozen: past the hang timeout, so a reaper that counted it would reap.</summary>
    public TimeSpan PostgresPause => options.HangTimeout + TimeSpan.FromSeconds(5);

    /// <summary>How long the coordinator may take to reap a paused daemon's job: its reaper runs once a minute.</summary>
    private TimeSpan ReaperBound => options.HangTimeout + TimeSpan.FromSeconds(75);

    public static FaultRecord Pending(FaultKind closest, string name) => FaultRecord.Pending(closest) with { Name = name };

    /// <summary>`docker pause` of PostgreSQL for <see cref="PostgresPause"/>, then `docker unpause`.</summary>
    public RoundFault PausePostgres(int build, TimeSpan delay) => (driver, builds, buildsDone, hitting, cancellationToken) =>
        HitAsync(driver, build, delay, buildsDone, hitting, async (job, _) =>
        {
            await fleet.Postgres.PauseAsync(cancellationToken).ConfigureAwait(false);
            await Task.Delay(PostgresPause, cancellationToken).ConfigureAwait(false);
            await fleet.Postgres.UnpauseAsync(cancellationToken).ConfigureAwait(false);
            return new FaultRecord(FaultKind.PostgresRestart, $"paused PostgreSQL's container for {PostgresPause.TotalSeconds:0} s (hang timeout {options.HangTimeout.TotalSeconds:0} s), then unpaused it") { Name = "postgres-pause" };
        }, cancellationToken);

    /// <summary>`docker stop` of PostgreSQL (fast shutdown), 3 s down, `docker start`; back once pg_isready answers.</summary>
    public RoundFault StopPostgres(int build, TimeSpan delay) => (driver, builds, buildsDone, hitting, cancellationToken) =>
        HitAsync(driver, build, delay, buildsDone, hitting, async (job, _) =>
        {
            var clock = Stopwatch.StartNew();
            await fleet.Postgres.StopAsync(cancellationToken).ConfigureAwait(false);
            var stopped = clock.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
            await fleet.Postgres.RestartAsync(cancellationToken).ConfigureAwait(false);
            return new FaultRecord(FaultKind.PostgresRestart, $"stopped PostgreSQL's container ({stopped.TotalSeconds:0.0} s), started it 3 s later: accepting connections {clock.Elapsed.TotalSeconds:0.0} s after the stop") { Name = "postgres-stop" };
        }, cancellationToken);

    /// <summary>`docker kill` of the container of the daemon holding the job (daemon, Terraform, scripts: all at once), `docker start` 1 s later.</summary>
    public RoundFault KillDaemon(int build, TimeSpan delay) => (driver, builds, buildsDone, hitting, cancellationToken) =>
        HitAsync(driver, build, delay, buildsDone, hitting, async (job, daemon) =>
        {
            await fleet.KillDaemonAsync(daemon, cancellationToken).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            await fleet.RestartDaemonAsync(daemon, cancellationToken).ConfigureAwait(false);
            return new FaultRecord(FaultKind.DaemonKill, $"killed {daemon}'s container, started it again 1 s later") { Name = "daemon-container-kill", KilledDaemons = [daemon.Name] };
        }, cancellationToken);

    /// <summary>
    /// `docker pause` of the container of the daemon holding the job until the coordinator has ended that job (its
    /// reaper runs once a minute; bounded) and at least the hang timeout + 2 s, then `docker unpause`: the daemon wakes
    /// up to a job that ended without it, and its report is late.
    /// </summary>
    public RoundFault PauseDaemon(int build, TimeSpan delay) => (driver, builds, buildsDone, hitting, cancellationToken) =>
        HitAsync(driver, build, delay, buildsDone, hitting, async (job, daemon) =>
        {
            var clock = Stopwatch.StartNew();
            await fleet.PauseDaemonAsync(daemon, cancellationToken).ConfigureAwait(false);
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

            await fleet.UnpauseDaemonAsync(daemon, cancellationToken).ConfigureAwait(false);
            return new FaultRecord(FaultKind.DaemonStop, $"paused {daemon}'s container for {clock.Elapsed.TotalSeconds:0} s, then unpaused it; {outcome}") { Name = "daemon-container-pause" };
        }, cancellationToken);

    private async Task<FaultRecord> HitAsync(
        WorkspaceDriver driver, int build, TimeSpan delay, Task buildsDone, TaskCompletionSource hitting, Func<JobView?, DaemonContainer, Task<FaultRecord>> hit, CancellationToken cancellationToken)
    {
        var job = await WaitUntilRunningAsync(driver, build, buildsDone, cancellationToken).ConfigureAwait(false);
        await Task.WhenAny(Task.Delay(delay, cancellationToken), buildsDone).ConfigureAwait(false);
        var holder = job?.WorkerId is { } worker ? await fleet.FindDaemonAsync(worker, cancellationToken).ConfigureAwait(false) : null;
        var during = job is null ? "no job running" : $"job {job.Id} of build {driver.CurrentBuild} on {holder?.Name ?? "no daemon we could tell"}";
        log.Write($"  fault {delay.TotalSeconds:0.0} s into build {build}'s run: {during}");
        hitting.TrySetResult();
        var record = await hit(job, holder ?? fleet.Daemons[0]).ConfigureAwait(false);
        record = record with { Description = $"{record.Description} ({during})", JobAtInjection = job?.Id };
        log.Write($"  fault done: {record}");
        return record;
    }

    /// <summary>The <paramref name="build"/>-th build's job once it runs (bounded); null when the builds ended first or it never ran.</summary>
    private async Task<JobView?> WaitUntilRunningAsync(WorkspaceDriver driver, int build, Task buildsDone, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + RunningBound;
        while (DateTime.UtcNow < deadline && !buildsDone.IsCompleted && driver.StartedBuilds <= build)
        {
            if (driver.StartedBuilds == build && driver.CurrentJobId is { } id)
            {
                try
                {
                    var job = await fleet.Api.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
                    if (job.Status == "running")
                    {
                        return job;
                    }
                }
                catch (Exception exception) when (CoordinatorApi.IsTransient(exception) && !cancellationToken.IsCancellationRequested)
                {
                    // Asked again below.
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }

        return null;
    }
}
