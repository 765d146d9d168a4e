using Provisioning.FaultInjection.Faults;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// A daemon's whole machine killed while it runs a build (its own fleet, so this runs beside the other faults). One
/// round of the fault suite; asserts its invariants and that the builds after the fault succeed.
/// </summary>
public sealed class DaemonContainerFaultTests(ContainerFleetFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerFleetFixture>
{
    [Fact]
    public async Task DaemonContainerKilled_MidStop_JobEndsOnceNoStateLostLaterBuildsSucceed()
    {
        await ContainerRounds.RunAsync(fixture, output, ContainerFaults.Pending(FaultKind.DaemonKill, "daemon-container-kill"), faults => faults.KillDaemon(2, TimeSpan.FromSeconds(1.5)), faultBuild: 2);
    }
}
