using Provisioning.FaultInjection.Faults;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// A daemon's whole machine killed or frozen while it runs a build (its own fleet, so these run beside the database
/// faults). Each runs one round of the fault suite and asserts its invariants and that the builds after it succeed.
/// </summary>
public sealed class DaemonContainerFaultTests(ContainerFleetFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerFleetFixture>
{
    [Fact]
    public async Task DaemonContainerKilled_MidStop_JobEndsOnceNoStateLostLaterBuildsSucceed()
    {
        await ContainerRounds.RunAsync(fixture, output, ContainerFaults.Pending(FaultKind.DaemonKill, "daemon-container-kill"), faults => faults.KillDaemon(2, TimeSpan.FromSeconds(1.5)), faultBuild: 2);
    }

    [Fact]
    public async Task DaemonContainerPaused_UntilReaped_LateStateKeptDeleteSucceeds()
    {
        var report = await ContainerRounds.RunAsync(fixture, output, ContainerFaults.Pending(FaultKind.DaemonStop, "daemon-container-pause"), faults => faults.PauseDaemon(3, TimeSpan.FromSeconds(1.5)), faultBuild: 3);

        // The paused daemon's job was ended by the coordinator while the daemon was frozen; the state it reported on
        // waking is on the build (the round's state checks found every marker named), and the job kept its end.
        Assert.Equal("failed", report.Builds[2].Status);
    }
}
