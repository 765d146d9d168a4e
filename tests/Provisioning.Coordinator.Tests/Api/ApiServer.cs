using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

using Grpc.Core;
using Grpc.Net.Client;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Provisioning.Coordinator.Daemons;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// A real coordinator host (AddCoordinator + MapCoordinator, as `provisioning server` composes it) on
/// 127.0.0.1: REST on one port, cleartext gRPC on an HTTP/2-only port, its own PROVISIONING_HOME, and the
/// admin token the first start wrote there. Several servers may share one database (replicas).
/// </summary>
internal sealed class ApiServer : IAsyncDisposable
{
    public const string Psk = "api-test-pre-shared-key-0123456789";
    public const long MaxUploadBytes = 1024 * 1024;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly WebApplication _app;

    private ApiServer(WebApplication app, string connectionString, string home, Uri httpAddress, Uri grpcAddress)
    {
        _app = app;
        ConnectionString = connectionString;
        Home = home;
        HttpAddress = httpAddress;
        GrpcAddress = grpcAddress;
        Channel = GrpcChannel.ForAddress(grpcAddress);
        Daemons = new ProvisionerDaemon.ProvisionerDaemonClient(Channel);
    }

    public string ConnectionString { get; }

    public string Home { get; }

    public Uri HttpAddress { get; }

    public Uri GrpcAddress { get; }

    public GrpcChannel Channel { get; }

    public ProvisionerDaemon.ProvisionerDaemonClient Daemons { get; }

    public IServiceProvider Services => _app.Services;

    public string SessionPath => Path.Combine(Home, "session");

    public static async Task<ApiServer> StartAsync(PostgresServerFixture server, CancellationToken cancellationToken) =>
        await StartOnAsync(await server.CreateDatabaseAsync("api", cancellationToken), cancellationToken);

    /// <summary>Starts a coordinator on an existing database (a second replica when another server uses it); <paramref name="settings"/> adds "Coordinator:*" settings.</summary>
    public static async Task<ApiServer> StartOnAsync(string connectionString, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var home = PostgresServerFixture.CreateTemporaryHome();
        var http = new Uri($"http://127.0.0.1:{FreePort()}");
        var grpc = new Uri($"http://127.0.0.1:{FreePort()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:PostgresUrl"] = connectionString,
            ["Coordinator:HomeDirectory"] = home,
            ["Coordinator:ProvisionerPsk"] = Psk,
            ["Coordinator:MaxUploadBytes"] = MaxUploadBytes.ToString(CultureInfo.InvariantCulture),
            ["Coordinator:HttpAddress"] = http.ToString().TrimEnd('/'),
            ["Coordinator:GrpcAddress"] = grpc.ToString().TrimEnd('/'),
        });
        builder.Configuration.AddInMemoryCollection((settings ?? new Dictionary<string, string?>()).Select(setting => KeyValuePair.Create("Coordinator:" + setting.Key, setting.Value)));
        builder.Logging.ClearProviders();
        builder.AddCoordinator();
        var options = new CoordinatorOptions { HttpAddress = http.ToString().TrimEnd('/'), GrpcAddress = grpc.ToString().TrimEnd('/') };
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenOnCoordinatorAddresses(options));
        var app = builder.Build();
        app.MapCoordinator();
        await app.StartAsync(cancellationToken);
        return new ApiServer(app, connectionString, home, http, grpc);
    }

    /// <summary>A client with no token.</summary>
    public HttpClient Anonymous() => new() { BaseAddress = HttpAddress };

    /// <summary>A client that sends <paramref name="token"/> as a bearer token.</summary>
    public HttpClient Client(string token)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task<string> AdminTokenAsync() => (await File.ReadAllTextAsync(SessionPath)).Trim();

    public async Task<HttpClient> AdminAsync() => Client(await AdminTokenAsync());

    /// <summary>Creates a user with a unique name and returns a client carrying its first token.</summary>
    public async Task<(HttpClient Client, string Username)> CreateUserAsync(string role, CancellationToken cancellationToken)
    {
        using var admin = await AdminAsync();
        var username = "u" + Guid.NewGuid().ToString("N")[..10];
        using var response = await admin.PostAsJsonAsync("/api/v1/users", new { username, email = username + "@example.com", role }, Json, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken);
        return (Client(created.GetProperty("session_token").GetString()!), username);
    }

    public static Metadata PskHeaders(string? sessionToken = null)
    {
        var headers = new Metadata { { ProvisionerDaemonMetadata.ProvisionerPsk, Psk } };
        if (sessionToken is not null)
        {
            headers.Add(ProvisionerDaemonMetadata.DaemonSession, sessionToken);
        }

        return headers;
    }

    /// <summary>Registers a PSK daemon and returns the headers its later calls carry.</summary>
    public async Task<Metadata> RegisterDaemonAsync(string name, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken)
    {
        var info = new DaemonInfo { Name = name, Version = "test", Provisioners = { "terraform" }, Slots = 1 };
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            info.Tags[key] = value;
        }

        var response = await Daemons.RegisterAsync(new RegisterRequest { Daemon = info }, PskHeaders(), cancellationToken: cancellationToken);
        return PskHeaders(response.SessionToken);
    }

    /// <summary>Acquires one job with <paramref name="headers"/> (waiting for one).</summary>
    public async Task<AcquiredJob> AcquireAsync(Metadata headers, CancellationToken cancellationToken)
    {
        using var call = Daemons.AcquireJob(headers, cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready() }, cancellationToken);
        Assert.True(await call.ResponseStream.MoveNext(cancellationToken));
        return call.ResponseStream.Current;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(Home, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
