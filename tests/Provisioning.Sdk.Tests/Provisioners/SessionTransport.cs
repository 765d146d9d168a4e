using Provisioning.Sdk.Provisioners;

namespace Provisioning.Sdk.Tests.Provisioners;

/// <summary>
/// A provisioner reachable through one of the two transports: in-process, or a real gRPC server on
/// a Unix socket in a temp directory with <see cref="UnixSocketProvisionerConnection"/> in front.
/// </summary>
internal sealed class SessionTransport : IAsyncDisposable
{
    public const string InProcess = "in-process";
    public const string UnixSocket = "unix-socket";

    private readonly TempDirectory _directory;
    private readonly ProvisionerGrpcServer? _server;
    private readonly UnixSocketProvisionerConnection? _socketConnection;

    private SessionTransport(TempDirectory directory, IProvisionerConnection connection, ProvisionerGrpcServer? server, UnixSocketProvisionerConnection? socketConnection)
    {
        _directory = directory;
        Connection = connection;
        _server = server;
        _socketConnection = socketConnection;
    }

    public IProvisionerConnection Connection { get; }

    /// <summary>Where sessions create their work directories.</summary>
    public string WorkRoot => _directory.Combine("work");

    public static async Task<SessionTransport> StartAsync(string kind, IProvisioner provisioner, CancellationToken cancellationToken)
    {
        var directory = new TempDirectory();
        Directory.CreateDirectory(directory.Combine("work"));
        var options = new ProvisionerSessionHostOptions { WorkDirectoryRoot = directory.Combine("work") };
        if (kind == InProcess)
        {
            return new SessionTransport(directory, new InProcessProvisionerConnection(provisioner, options), null, null);
        }

        var server = new ProvisionerGrpcServer(directory.Combine("provisioner.sock"), provisioner, options);
        await server.StartAsync(cancellationToken);
        var connection = new UnixSocketProvisionerConnection(server.SocketPath);
        return new SessionTransport(directory, connection, server, connection);
    }

    public async ValueTask DisposeAsync()
    {
        _socketConnection?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _directory.Dispose();
    }
}
