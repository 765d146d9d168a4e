using Provisioning.FaultInjection.Faults;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// A daemon's whole machine frozen while it runs a build, until the coordinator reaped the job. Its own fleet: the
/// reaper runs once a minute, so this is the longest test and runs beside the others. One round of the fault suite;
/// asserts its invariants and that the builds after the fault (here: the delete) succeed.
/// </summary>
public sealed class DaemonContainerPauseTests(ContainerFleetFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerFleetFixture>
{
    [Fact]
    public async Task DaemonContainerPaused_UntilReaped_LateStateKeptDeleteSucceeds()
    {
        var report = await ContainerRounds.RunAsync(fixture, output, ContainerFaults.Pending(FaultKind.DaemonStop, "daemon-container-pause"), faults => faults.PauseDaemon(3, TimeSpan.FromSeconds(1.5)), faultBuild: 3);

        // The paused daemon's job was ended by the coordinator while the daemon was frozen; the state it reported on
        // waking is on the build (the round's state checks found every marker named), and the job kept its end.
        Assert.Equal("failed", report.Builds[2].Status);
    }
}
