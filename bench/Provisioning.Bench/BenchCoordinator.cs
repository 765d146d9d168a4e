using System.Globalization;
using System.Net;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Npgsql;

using Provisioning.Coordinator;
using Provisioning.Coordinator.Database;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Bench;

/// <summary>
/// The real coordinator (AddCoordinator + MapCoordinator) in this process, serving gRPC on a free port of
/// 127.0.0.1, on the built-in PostgreSQL in a temporary directory or on a throwaway database of --postgres-url.
/// </summary>
internal sealed class BenchCoordinator : IAsyncDisposable
{
    public const string Psk = "bench-pre-shared-key-0123456789abcdef";

    private readonly WebApplication _app;
    private readonly string? _temporaryHome;
    private readonly string? _adminConnectionString;
    private readonly string? _databaseName;

    private BenchCoordinator(WebApplication app, Uri address, string? temporaryHome, string? adminConnectionString, string? databaseName)
    {
        _app = app;
        Address = address;
        _temporaryHome = temporaryHome;
        _adminConnectionString = adminConnectionString;
        _databaseName = databaseName;
    }

    public Uri Address { get; }

    public ProvisionerJobQueue Queue => _app.Services.GetRequiredService<ProvisionerJobQueue>();

    public NpgsqlDataSource DataSource => _app.Services.GetRequiredService<NpgsqlDataSource>();

    public string ConnectionString => _app.Services.GetRequiredService<CoordinatorDatabase>().ConnectionString;

    public static async Task<BenchCoordinator> StartAsync(string? postgresUrl, CancellationToken cancellationToken)
    {
        string? temporaryHome = null;
        string? adminConnectionString = null;
        string? databaseName = null;
        var settings = new Dictionary<string, string?> { ["Coordinator:ProvisionerPsk"] = Psk };
        if (postgresUrl is null)
        {
            // The built-in cluster runs as the postgres user when we are root: it must be able to traverse the directory.
            temporaryHome = Directory.CreateTempSubdirectory("provisioning-bench-").FullName;
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporaryHome, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }

            settings["Coordinator:HomeDirectory"] = temporaryHome;
        }
        else
        {
            adminConnectionString = PostgresConnectionString.Parse(postgresUrl).ConnectionString;
            databaseName = "provisioning_bench_" + Guid.NewGuid().ToString("N")[..12];
            await using (var admin = new NpgsqlConnection(adminConnectionString))
            {
                await admin.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var create = new NpgsqlCommand($"CREATE DATABASE {databaseName}", admin);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            settings["Coordinator:PostgresUrl"] = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = databaseName }.ConnectionString;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        // A log line per job would measure the console, not the queue.
        builder.Logging.ClearProviders();
        builder.AddCoordinator();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapCoordinator();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new BenchCoordinator(app, address, temporaryHome, adminConnectionString, databaseName);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        NpgsqlConnection.ClearAllPools();
        if (_adminConnectionString is not null && _databaseName is not null)
        {
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync().ConfigureAwait(false);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_databaseName} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        if (_temporaryHome is not null)
        {
            // When the home was not traversable the cluster lives elsewhere; the pointer file says where.
            var pointer = Path.Combine(_temporaryHome, "postgres", "data-directory");
            if (File.Exists(pointer))
            {
                var relocated = (await File.ReadAllTextAsync(pointer).ConfigureAwait(false)).Trim();
                TryDelete(Path.GetDirectoryName(relocated)!);
            }

            TryDelete(_temporaryHome);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException exception)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Could not remove {directory}: {exception.Message}"));
        }
        catch (UnauthorizedAccessException exception)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Could not remove {directory}: {exception.Message}"));
        }
    }
}
