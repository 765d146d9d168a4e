using Provisioning.Sdk.Provisioners;

namespace Provisioning.Daemon;

/// <summary>
/// A provisioner served over gRPC on a Unix socket (see <c>ProvisionerGrpcServer</c>), written in any
/// language. Its sessions keep their files on the provisioner's side, so the job's work directory only
/// holds what the daemon itself writes.
/// </summary>
public sealed class UnixSocketDaemonProvisioner : IDaemonProvisioner, IDisposable
{
    private readonly UnixSocketProvisionerConnection _connection;

    /// <param name="type">The provisioner type announced to the coordinator.</param>
    /// <param name="socketPath">The provisioner's socket.</param>
    public UnixSocketDaemonProvisioner(string type, string socketPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        Type = type;
        _connection = new UnixSocketProvisionerConnection(socketPath);
    }

    public string Type { get; }

    /// <summary>Opens and closes one session, so a provisioner that is not listening stops the daemon before it registers.</summary>
    public async Task<string> CheckAsync(CancellationToken cancellationToken = default)
    {
        var session = await _connection.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await session.DisposeAsync().ConfigureAwait(false);
        return $"{Type} on {_connection.SocketPath}";
    }

    public IProvisionerConnection Connect(string workDirectory) => _connection;

    public void Dispose() => _connection.Dispose();
}
