using Provisioning.ContainerFaultTests.Containers;
using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.ContainerFaultTests;

/// <summary>Runs one round of the fault suite on the container fleet and asserts what the suite asserts, plus that the builds after the fault succeeded.</summary>
internal static class ContainerRounds
{
    /// <param name="fixture">The fleet.</param>
    /// <param name="output">The test's output: the round's record is printed there as it goes.</param>
    /// <param name="pending">The fault's name (and the process fault it extends) until it hits.</param>
    /// <param name="fault">The fault, given the fleet and the printed record.</param>
    /// <param name="faultBuild">The build (1: start, 2: stop, 3: start) the fault hits; the later builds and the delete must succeed.</param>
    public static async Task<RoundReport> RunAsync(ContainerFleetFixture fixture, ITestOutputHelper output, FaultRecord pending, Func<ContainerFaults, RoundFault> fault, int faultBuild)
    {
        var fleet = fixture.Require(output);
        var log = new RunLog(output.WriteLine);
        var runner = new RoundRunner(fleet, new InvariantChecker(fleet.Api), fixture.Options, log);
        RoundReport report;
        try
        {
            report = await runner.RunAsync(fixture.NextRound(), pending, fault(new ContainerFaults(fleet, fixture.Options, log)), TestContext.Current.CancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{pending.Name}: the round could not finish: {exception.Message}\n{await fleet.DaemonLogsAsync(40)}", exception);
        }

        var failedAfter = report.Builds.Skip(faultBuild).Where(build => build.Status != "succeeded").ToList();
        if (report.Violations.Count > 0 || failedAfter.Count > 0)
        {
            Assert.Fail(
                $"{pending.Name}: {report.Violations.Count} violation(s), {failedAfter.Count} build(s) after the fault not succeeded.\n"
                + string.Join('\n', report.Violations.Select(violation => "  " + violation).Concat(failedAfter.Select(build => "  not succeeded: " + build)))
                + "\n" + await fleet.DaemonLogsAsync(40));
        }

        return report;
    }
}
