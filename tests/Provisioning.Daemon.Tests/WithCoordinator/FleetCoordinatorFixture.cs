namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// One real coordinator for a test class. Tests stay independent by unique names and a unique tag per
/// test, so each test's daemons take only that test's jobs. Its hang timeout is short so the reaper
/// test need not wait minutes; the daemons' heartbeats (300 ms) keep every healthy job far from it.
/// </summary>
public sealed class FleetCoordinatorFixture : IAsyncLifetime
{
    public const string JobHangTimeout = "00:00:06";

    internal FleetCoordinator Coordinator { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Coordinator = await FleetCoordinator.StartAsync(new Dictionary<string, string?> { ["JobHangTimeout"] = JobHangTimeout }, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await Coordinator.DisposeAsync();
}
