using System.Net.Sockets;
using Provisioning.Sdk.Provisioners;
using static Provisioning.Sdk.Tests.Provisioners.SessionRequests;

namespace Provisioning.Sdk.Tests.Provisioners;

public sealed class ProvisionerGrpcServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartAsync_StaleSocketFileLeftBehind_RemovesItAndServes()
    {
        using var dir = new TempDirectory();
        var socketPath = dir.Combine("p.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            // .NET unlinks a bound socket's path on dispose; moving the file away first leaves a socket
            // file nobody listens on, as a crashed server does.
            stale.Bind(new UnixDomainSocketEndPoint(dir.Combine("bound.sock")));
            File.Move(dir.Combine("bound.sock"), socketPath);
        }

        Assert.True(File.Exists(socketPath));
        await using var server = new ProvisionerGrpcServer(socketPath, new ScriptedProvisioner());
        await server.StartAsync(Ct);
        using var connection = new UnixSocketProvisionerConnection(socketPath);
        await using var session = await connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);
        var parse = await session.SendAndWaitAsync(Parse(), cancellationToken: Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(string.Empty, parse.Parse.Error);
    }

    [Fact]
    public async Task StartAsync_AnotherServerListens_RefusesWithClearError()
    {
        using var dir = new TempDirectory();
        var socketPath = dir.Combine("p.sock");
        await using var first = new ProvisionerGrpcServer(socketPath, new ScriptedProvisioner());
        await first.StartAsync(Ct);
        await using var second = new ProvisionerGrpcServer(socketPath, new ScriptedProvisioner());

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(Ct));

        Assert.Contains("Another server is listening", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_Started_SocketIsAccessibleToItsOwnerOnly()
    {
        using var dir = new TempDirectory();
        await using var server = new ProvisionerGrpcServer(dir.Combine("p.sock"), new ScriptedProvisioner());

        await server.StartAsync(Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.SocketPath));
    }

    [Fact]
    public async Task DisposeAsync_StartedServer_RemovesTheSocketFile()
    {
        using var dir = new TempDirectory();
        var server = new ProvisionerGrpcServer(dir.Combine("p.sock"), new ScriptedProvisioner());
        await server.StartAsync(Ct);
        var existed = File.Exists(server.SocketPath);

        await server.DisposeAsync();

        Assert.True(existed);
        Assert.False(File.Exists(server.SocketPath));
    }

    [Fact]
    public async Task OpenSessionAsync_NoServerOnTheSocket_FailsWithClearError()
    {
        using var dir = new TempDirectory();
        using var connection = new UnixSocketProvisionerConnection(dir.Combine("nobody.sock"));

        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => connection.OpenSessionAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct));

        Assert.Contains("Cannot reach the provisioner", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nobody.sock", ex.Message, StringComparison.Ordinal);
    }
}
