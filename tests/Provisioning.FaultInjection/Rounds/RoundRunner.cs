using System.Diagnostics;
using System.Globalization;

using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Fleet;

namespace Provisioning.FaultInjection.Rounds;

/// <summary>
/// One round: a new workspace is built create → stop → start while one fault hits the fleet at a random moment. After
/// each build the workspace's latest state is checked against the markers on disk; once the fault has hit, the next
/// check (and build) waits until the fault is over and the fleet had a moment to deliver late reports, as an operator
/// would retry after an incident. Then the fleet is healed, the round's invariants are checked, the workspace is
/// deleted with the healthy fleet, and the delete is checked. Every step is bounded and printed as it goes. The fault
/// comes from the caller (<see cref="RoundFault"/>): a process fault of this suite, or a container fault of
/// tests/Provisioning.ContainerFaultTests, whose rounds are the same.
/// </summary>
internal sealed class RoundRunner(IFaultFleet fleet, InvariantChecker checker, FaultRunOptions options, RunLog log)
{
    private static readonly string[] Transitions = ["start", "stop", "start"];

    /// <summary>How long a fleet that got over a fault has to deliver what it still holds (a daemon's late or re-sent report).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    /// <summary>A job still not ended after this long breaks "every job ends": the reaper (once a minute) plus the hang timeout plus room for the build itself.</summary>
    private TimeSpan JobEndBound => options.HangTimeout + TimeSpan.FromMinutes(3);

    /// <param name="round">The round's number; its workspace is round-NNN.</param>
    /// <param name="pending">The fault's record until it hits (<see cref="FaultRecord.Pending"/>, named).</param>
    /// <param name="inject">Hits the fleet once, during one of the round's builds.</param>
    /// <param name="cancellationToken">Ends the round early.</param>
    public async Task<RoundReport> RunAsync(int round, FaultRecord pending, RoundFault inject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(inject);
        var clock = Stopwatch.StartNew();
        var workspace = string.Create(CultureInfo.InvariantCulture, $"round-{round:D3}");
        log.Write($"round {round}/{options.Rounds}: workspace {workspace}, fault {pending.Name}");
        var driver = new WorkspaceDriver(fleet.Api, workspace, JobEndBound, log);
        var disk = new WorkspaceDisk(fleet.MarkersRoot, workspace);
        var outcomes = new List<BuildOutcome>();
        var violations = new List<Violation>();
        var notes = new List<string>();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var buildsOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hitting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var faultTask = inject(driver, Transitions.Length, buildsOver.Task, hitting, cancellationToken);

        async Task<FaultRecord> FaultSoFarAsync()
        {
            if (!hitting.Task.IsCompleted)
            {
                return pending;
            }

            var record = await faultTask.ConfigureAwait(false);
            await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
            return record;
        }

        void Take(CheckResult result)
        {
            violations.AddRange(result.Violations);
            notes.AddRange(result.Notes);
        }

        try
        {
            foreach (var transition in Transitions)
            {
                var outcome = await driver.BuildAsync(transition, cancellationToken).ConfigureAwait(false);
                outcomes.Add(outcome);
                log.Write($"  {outcome}");
                var fault = await FaultSoFarAsync().ConfigureAwait(false);
                Take(await checker.CheckStateAsync(round, fault, disk, $"build #{outcome.BuildNumber} {transition}", reported, cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            buildsOver.TrySetResult();
        }

        var record = await faultTask.ConfigureAwait(false);
        foreach (var repair in await fleet.HealAsync(cancellationToken).ConfigureAwait(false))
        {
            log.Write($"  heal: {repair}");
        }

        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
        Take(await checker.CheckStateAsync(round, record, disk, "the round's builds, fleet healed", reported, cancellationToken).ConfigureAwait(false));
        violations.AddRange(InvariantChecker.CheckRound(round, record, disk, outcomes));
        violations.AddRange(await checker.CheckEndedOnceAsync(round, record, outcomes, cancellationToken).ConfigureAwait(false));
        foreach (var line in InvariantChecker.History(disk))
        {
            log.Write($"  ran: {line}");
        }

        var taintedBeforeDelete = await checker.TaintedInLatestStateAsync(disk.Workspace, cancellationToken).ConfigureAwait(false);
        var delete = await driver.BuildAsync("delete", cancellationToken).ConfigureAwait(false);
        log.Write($"  {delete}");
        Take(await checker.CheckDeleteAsync(round, record, disk, delete, taintedBeforeDelete, cancellationToken).ConfigureAwait(false));

        foreach (var note in notes)
        {
            log.Write($"  note: {note}");
        }

        foreach (var violation in violations)
        {
            log.Write($"  VIOLATION [{violation.Invariant}] {violation.Evidence}");
        }

        log.Write($"round {round} done in {clock.Elapsed.TotalSeconds:0} s: {(violations.Count == 0 ? "all invariants held" : $"{violations.Count} violation(s)")}");
        return new RoundReport(round, record, [.. outcomes, delete], violations, notes, clock.Elapsed);
    }
}
