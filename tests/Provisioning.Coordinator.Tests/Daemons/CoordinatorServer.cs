using System.Net;

using Dapper;

using Grpc.Core;
using Grpc.Net.Client;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Npgsql;

using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Tests.Daemons;

/// <summary>A real coordinator host (AddCoordinator + MapCoordinator) on a fresh database, serving gRPC on 127.0.0.1 over cleartext HTTP/2.</summary>
internal sealed class CoordinatorServer : IAsyncDisposable
{
    public const string Psk = "test-pre-shared-key-0123456789";
    public const long MaxJobLogBytes = 2048;
    public const long MaxUploadBytes = 1024 * 1024;

    private readonly WebApplication _app;
    private bool _stopped;

    private CoordinatorServer(WebApplication app, string connectionString, string address)
    {
        _app = app;
        ConnectionString = connectionString;
        Channel = GrpcChannel.ForAddress(address);
        Client = new ProvisionerDaemon.ProvisionerDaemonClient(Channel);
    }

    public string ConnectionString { get; }

    public GrpcChannel Channel { get; }

    public ProvisionerDaemon.ProvisionerDaemonClient Client { get; }

    public ProvisionerJobQueue Queue => _app.Services.GetRequiredService<ProvisionerJobQueue>();

    public Hangfire.JobStorage Storage => _app.Services.GetRequiredService<Hangfire.JobStorage>();

    public ProvisionerKeyStore Keys => _app.Services.GetRequiredService<ProvisionerKeyStore>();

    public NpgsqlDataSource DataSource => _app.Services.GetRequiredService<NpgsqlDataSource>();

    public IServiceProvider Services => _app.Services;

    public static async Task<CoordinatorServer> StartAsync(PostgresServerFixture server, CancellationToken cancellationToken)
    {
        var connectionString = await server.CreateDatabaseAsync("grpc", cancellationToken);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:PostgresUrl"] = connectionString,
            ["Coordinator:ProvisionerPsk"] = Psk,
            ["Coordinator:MaxJobLogBytes"] = MaxJobLogBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Coordinator:MaxUploadBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Logging.ClearProviders();
        builder.AddCoordinator();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapCoordinator();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new CoordinatorServer(app, connectionString, address);
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
    public async Task<Metadata> RegisterAsync(string name, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken, int slots = 1)
    {
        var info = new DaemonInfo { Name = name, Version = "test", Provisioners = { "terraform" }, Slots = slots };
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            info.Tags[key] = value;
        }

        var response = await Client.RegisterAsync(new RegisterRequest { Daemon = info }, PskHeaders(), cancellationToken: cancellationToken);
        return PskHeaders(response.SessionToken);
    }

    /// <summary>Opens an acquisition stream, says ready, and returns the job sent (empty when none came before the stream ended).</summary>
    public async Task<AcquiredJob> AcquireAsync(Metadata headers, CancellationToken cancellationToken)
    {
        using var call = Client.AcquireJob(headers, cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready() }, cancellationToken);
        Assert.True(await call.ResponseStream.MoveNext(cancellationToken));
        return call.ResponseStream.Current;
    }

    /// <summary>A user, template, version and workspace, and build <paramref name="buildNumber"/> whose job is enqueued; returns the job.</summary>
    public async Task<ProvisionerJob> EnqueueWorkspaceBuildAsync(string workspaceName, int buildNumber, byte[]? previousState, CancellationToken cancellationToken)
    {
        var payload = new AcquiredJob { WorkspaceBuild = new AcquiredJob.Types.WorkspaceBuild { WorkspaceName = workspaceName } };
        var job = await Queue.Ledger.InsertAsync(
            new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, "terraform", new Dictionary<string, string>(), ProvisionerJobInputs.ToInput(payload)),
            cancellationToken);
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var owner = await connection.ExecuteScalarAsync<Guid>("INSERT INTO users (username, email) VALUES (@Name, @Email) RETURNING id", new { Name = "u" + suffix, Email = suffix + "@example.com" });
        var importJob = await Queue.Ledger.InsertAsync(new NewProvisionerJob(ProvisionerJobType.TemplateVersionImport, "terraform", new Dictionary<string, string>()), cancellationToken);
        var template = await connection.ExecuteScalarAsync<Guid>("INSERT INTO templates (name) VALUES (@Name) RETURNING id", new { Name = "t" + suffix });
        var version = await connection.ExecuteScalarAsync<Guid>(
            "INSERT INTO template_versions (template_id, name, job_id) VALUES (@template, 'v1', @job) RETURNING id", new { template, job = importJob.Id });
        var workspace = await connection.ExecuteScalarAsync<Guid>(
            "INSERT INTO workspaces (owner_id, template_id, name) VALUES (@owner, @template, @name) RETURNING id", new { owner, template, name = workspaceName });
        if (previousState is not null)
        {
            var previousJob = await Queue.Ledger.InsertAsync(new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, "terraform", new Dictionary<string, string>()), cancellationToken);
            await Queue.Ledger.CancelAsync(previousJob.Id, cancellationToken);
            await connection.ExecuteAsync(
                "INSERT INTO workspace_builds (workspace_id, template_version_id, build_number, transition, job_id, provisioner_state, active) VALUES (@workspace, @version, @number, 'start', @job, @state, false)",
                new { workspace, version, number = buildNumber - 1, job = previousJob.Id, state = previousState });
        }

        // As the workspace builder does: the new build starts with its predecessor's state (invariant 3).
        await connection.ExecuteAsync(
            "INSERT INTO workspace_builds (workspace_id, template_version_id, build_number, transition, job_id, provisioner_state) VALUES (@workspace, @version, @number, 'start', @job, @state)",
            new { workspace, version, number = buildNumber, job = job.Id, state = previousState });
        return await Queue.PublishAsync(job, cancellationToken);
    }

    /// <summary>Stops the host (as on SIGTERM) while clients may still be connected.</summary>
    public async Task StopHostAsync(CancellationToken cancellationToken)
    {
        _stopped = true;
        await _app.StopAsync(cancellationToken);
    }

    public async Task<T?> QueryScalarAsync<T>(string sql, object parameters)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<T>(sql, parameters);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (!_stopped)
        {
            await _app.StopAsync();
        }

        await _app.DisposeAsync();
    }
}
