using System.Runtime.InteropServices;

using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Fleet;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.FaultInjection;

/// <summary>
/// The whole fault suite: sweep what earlier runs left, start a fleet in a fresh temporary root, run the rounds (the
/// faults drawn in shuffled blocks, so that rounds 1–5, 6–10, … each inject every fault once, in a seeded order), print a summary
/// line, and tear everything down whatever happened: normal end, exception, cancellation, SIGTERM, or the process exiting.
/// </summary>
internal static class FaultRun
{
    public static async Task<FaultRunReport> RunAsync(FaultRunOptions options, RunLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var replay = $"PROVISIONING_FAULT_SEED={options.Seed} PROVISIONING_FAULT_ROUNDS={options.Rounds}"
            + (options.Faults.Count < Enum.GetValues<FaultKind>().Length ? $" PROVISIONING_FAULT_KINDS={string.Join(',', options.Faults.Select(FaultKinds.Name))}" : string.Empty);
        log.Write($"fault suite: seed {options.Seed}, {options.Rounds} round(s), faults {string.Join(", ", options.Faults.Select(FaultKinds.Name))}, hang timeout {options.HangTimeout.TotalSeconds:0} s (replay: {replay})");
        foreach (var stale in await RunDirectory.SweepStaleAsync().ConfigureAwait(false))
        {
            log.Write($"removed the leftovers of an earlier run that did not clean up: {stale}");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Deadline);

        // SIGTERM (a CI job or test host being stopped) and SIGHUP (a closed terminal) end the run like Ctrl+C: the
        // fleet is torn down before the process goes. Without this, .NET would exit at once and leave the fleet running.
        using var terminated = new CancellationTokenSource();
        using var run = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, terminated.Token);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            log.Write($"{context.Signal}: stopping the run and tearing the fleet down");
            terminated.Cancel();
        }

        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
        var random = new Random(options.Seed);
        var fleet = new ProvisioningFleet(options, RunDirectory.Create(), log);

        // Cleanup also when the process is told to end (Ctrl+C twice, SIGTERM of a test host): nothing may survive the run.
        void OnExit(object? sender, EventArgs e) => fleet.Abort();
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        var rounds = new List<RoundReport>();
        try
        {
            await fleet.StartAsync(run.Token).ConfigureAwait(false);
            var injector = new FaultInjector(fleet, options, log);
            var runner = new RoundRunner(fleet, new InvariantChecker(fleet.Api), options, log);
            var plan = new Queue<FaultKind>();
            for (var round = 1; round <= options.Rounds; round++)
            {
                if (plan.Count == 0)
                {
                    foreach (var kind in options.Faults.OrderBy(_ => random.Next()))
                    {
                        plan.Enqueue(kind);
                    }
                }

                var fault = plan.Dequeue();
                rounds.Add(await runner.RunAsync(
                    round,
                    FaultRecord.Pending(fault),
                    (driver, builds, buildsDone, hitting, token) => injector.InjectAsync(fault, driver, builds, buildsDone, hitting, random, token),
                    run.Token).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (terminated.IsCancellationRequested)
        {
            throw new OperationCanceledException($"The fault suite was stopped by a signal after {rounds.Count} round(s).");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The fault suite did not finish within its deadline of {options.Deadline.TotalMinutes:0} min (after {rounds.Count} round(s)).");
        }
        finally
        {
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            await fleet.DisposeAsync().ConfigureAwait(false);
        }

        var report = new FaultRunReport(options.Seed, rounds, log.Elapsed);
        foreach (var violation in report.Violations)
        {
            log.Write($"violation: {violation}");
        }

        log.Write(report.Summary);
        return report;
    }
}
