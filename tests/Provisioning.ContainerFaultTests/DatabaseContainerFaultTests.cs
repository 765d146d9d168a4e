using Provisioning.FaultInjection.Faults;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// PostgreSQL's whole machine hung or down while a build runs (its own fleet: these pause the database every other
/// test would use). Each runs one round of the fault suite (create → stop → start, then delete) with the fault in
/// the stop build, and asserts the suite's invariants and that the builds after it succeed.
/// </summary>
public sealed class DatabaseContainerFaultTests(ContainerFleetFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerFleetFixture>
{
    [Fact]
    public async Task PostgresContainerPaused_PastTheHangTimeout_NoJobReapedNoStateLostLaterBuildsSucceed()
    {
        var report = await ContainerRounds.RunAsync(fixture, output, ContainerFaults.Pending(FaultKind.PostgresRestart, "postgres-pause"), faults => faults.PausePostgres(2, TimeSpan.FromSeconds(1.5)), faultBuild: 2);

        // A hung database is no coordinator that could hear a heartbeat: the reaper must not count the pause.
        Assert.DoesNotContain(report.Builds, build => build.Job?.ErrorCode == "daemon_timeout");
    }

    [Fact]
    public async Task PostgresContainerStoppedAndStarted_MidBuild_NoStateLostLaterBuildsSucceed()
    {
        await ContainerRounds.RunAsync(fixture, output, ContainerFaults.Pending(FaultKind.PostgresRestart, "postgres-stop"), faults => faults.StopPostgres(2, TimeSpan.FromSeconds(1.5)), faultBuild: 2);
    }
}
