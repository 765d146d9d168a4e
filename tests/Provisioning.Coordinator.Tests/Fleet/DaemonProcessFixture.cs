using Provisioning.Coordinator.Tests.Api;

namespace Provisioning.Coordinator.Tests.Fleet;

/// <summary>
/// One real coordinator (REST + gRPC on 127.0.0.1) on its own database for the daemon-process tests, with a
/// short hang timeout so the reaper acts within seconds of a daemon going silent; healthy daemons send a
/// heartbeat every second (the coordinator asks for a tenth of the timeout, at least 1 s), far inside it.
/// </summary>
public sealed class DaemonProcessFixture(PostgresServerFixture server) : IAsyncLifetime
{
    internal ApiServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        Server = await ApiServer.StartOnAsync(
            await server.CreateDatabaseAsync("fleet", cancellationToken), cancellationToken, new Dictionary<string, string?> { ["JobHangTimeout"] = "00:00:06" });
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
