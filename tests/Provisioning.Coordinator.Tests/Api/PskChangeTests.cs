using Grpc.Core;

using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>A daemon admitted by the pre-shared key loses its right to take work when the coordinator's key changes, as a revoked provisioner key does.</summary>
public sealed class PskChangeTests(PostgresServerFixture server)
{
    [Fact]
    public async Task AcquireJob_AfterTheCoordinatorsPreSharedKeyChanged_IsRefusedForSessionsTheOldKeyAdmitted()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await server.CreateDatabaseAsync("psk_change", cancellationToken);
        Grpc.Core.Metadata session;
        await using (var before = await ApiServer.StartOnAsync(connectionString, cancellationToken))
        {
            session = await before.RegisterDaemonAsync("psk-daemon", null, cancellationToken);
        }

        // The same database, a coordinator restarted with another --provisioner-psk.
        await using var after = await ApiServer.StartOnAsync(
            connectionString, cancellationToken, new Dictionary<string, string?> { ["ProvisionerPsk"] = "a-completely-different-pre-shared-key" });

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await after.AcquireAsync(session, cancellationToken));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("pre-shared key", refused.Status.Detail, StringComparison.Ordinal);
    }
}
