using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// Serves an <see cref="IProvisioner"/> over gRPC (HTTP/2) on a Unix domain socket, so a daemon can
/// reach it with <see cref="UnixSocketProvisionerConnection"/>; this is how a provisioner runs out of
/// the daemon's process. Every <c>Provisioner.Session</c> call is one <see cref="ProvisionerSessionHost"/>
/// session; a protocol error ends the call with status <c>FailedPrecondition</c> and the reason.
/// </summary>
public sealed class ProvisionerGrpcServer : IAsyncDisposable
{
    private readonly IProvisioner _provisioner;
    private readonly ProvisionerSessionHostOptions? _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private WebApplication? _app;

    /// <summary>Creates a server; it listens once <see cref="StartAsync"/> is called.</summary>
    /// <param name="socketPath">Where to create the socket; a stale socket file there is removed at start.</param>
    /// <param name="provisioner">The provisioner every session runs.</param>
    /// <param name="options">Session settings; defaults when null.</param>
    /// <param name="loggerFactory">Logging for the server and its sessions; none when null.</param>
    public ProvisionerGrpcServer(string socketPath, IProvisioner provisioner, ProvisionerSessionHostOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(provisioner);
        SocketPath = Path.GetFullPath(socketPath);
        _provisioner = provisioner;
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ProvisionerGrpcServer>();
    }

    /// <summary>The full path of the socket the server listens on.</summary>
    public string SocketPath { get; }

    /// <summary>Removes a stale socket file, then starts listening; the socket is made accessible to its owner only (0600).</summary>
    /// <param name="cancellationToken">Stops starting.</param>
    /// <exception cref="InvalidOperationException">The server is already started, or another server answers on the socket.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException($"The provisioner server on '{SocketPath}' is already started.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(SocketPath)!);
        await RemoveStaleSocketAsync(cancellationToken).ConfigureAwait(false);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });

        // The server is configured by its constructor alone, not by whatever the host process's configuration holds.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(SocketPath, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            // Templates and states travel in single messages and can exceed gRPC's 4 MiB default; the archive limits bound them.
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(new ProvisionerSessionHost(_provisioner, _options, _loggerFactory.CreateLogger<ProvisionerSessionHost>()));

        var app = builder.Build();
        app.MapGrpcService<ProvisionerGrpcService>();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _app = app;
        if (!OperatingSystem.IsWindows())
        {
            // Whoever can connect can run Terraform as this user: only the owner may (connecting needs write permission).
            File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        ProvisionerLog.ServerListening(_logger, SocketPath);
    }

    /// <summary>Stops listening; sessions still running are canceled when <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="cancellationToken">Ends the graceful wait for running sessions.</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the server and removes its socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await app.StopAsync(stop.Token).ConfigureAwait(false);
        }

        await app.DisposeAsync().ConfigureAwait(false);
        try
        {
            File.Delete(SocketPath);
        }
        catch (DirectoryNotFoundException)
        {
            // The socket's directory is gone already (e.g. a removed temp directory): nothing left to clean.
        }
    }

    private async Task RemoveStaleSocketAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(SocketPath))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException($"Another server is listening on '{SocketPath}'. Stop it, or give this provisioner another socket path.");
            }
            catch (SocketException)
            {
                // Nobody answers: the file is left over from a server that did not shut down cleanly.
            }
        }

        File.Delete(SocketPath);
        ProvisionerLog.StaleSocketRemoved(_logger, SocketPath);
    }
}
