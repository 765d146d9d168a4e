using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// Talks to a provisioner served over gRPC on a Unix domain socket (see <see cref="ProvisionerGrpcServer"/>):
/// how a provisioner written in any language plugs into the daemon. Each session is one
/// <c>Provisioner.Session</c> bidirectional call.
/// </summary>
public sealed class UnixSocketProvisionerConnection : IProvisionerConnection, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Provisioner.ProvisionerClient _client;

    /// <summary>Creates a connection to the socket at <paramref name="socketPath"/>; nothing connects until a session opens.</summary>
    /// <param name="socketPath">The path of the provisioner's Unix socket.</param>
    public UnixSocketProvisionerConnection(string socketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        SocketPath = Path.GetFullPath(socketPath);
        var endPoint = new UnixDomainSocketEndPoint(SocketPath);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            // A session can be idle for as long as Terraform runs; keep-alive pings are pointless on a local socket.
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };

        // The authority is ignored by the socket; templates and states can exceed gRPC's 4 MiB default.
        _channel = GrpcChannel.ForAddress("http://provisioner", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
        _client = new Provisioner.ProvisionerClient(_channel);
    }

    /// <summary>The full path of the socket this connection talks to.</summary>
    public string SocketPath { get; }

    /// <inheritdoc />
    /// <exception cref="ProvisionerSessionException">Nothing answers on the socket.</exception>
    public async Task<IProvisionerSessionClient> OpenSessionAsync(CancellationToken cancellationToken = default)
    {
        var call = _client.Session();
        try
        {
            // The server sends headers as soon as the session starts, so a missing server shows up here, not at the first read.
            await call.ResponseHeadersAsync.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            call.Dispose();
            throw GrpcSessionClient.Translate(ex, SocketPath);
        }
        catch
        {
            call.Dispose();
            throw;
        }

        return new GrpcSessionClient(call, SocketPath);
    }

    /// <summary>Closes the channel; sessions still open fail.</summary>
    public void Dispose() => _channel.Dispose();
}
