using Microsoft.Extensions.Logging.Abstractions;

using Npgsql;

using Provisioning.Coordinator.Database;

[assembly: AssemblyFixture(typeof(Provisioning.Coordinator.Tests.PostgresServerFixture))]

namespace Provisioning.Coordinator.Tests;

/// <summary>
/// One PostgreSQL server for the whole test run: $PROVISIONING_TEST_DATABASE_URL when set (a URL or
/// connection string of a user allowed to CREATE DATABASE), else a throwaway built-in cluster in a
/// temporary directory. Tests never share a database: each class asks for its own.
/// </summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    public const string DatabaseUrlVariable = "PROVISIONING_TEST_DATABASE_URL";

    private EmbeddedPostgres? _embedded;
    private string? _temporaryHome;
    private NpgsqlConnectionStringBuilder? _server;

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(DatabaseUrlVariable) is { Length: > 0 } url)
        {
            _server = PostgresConnectionString.Parse(url);
            return;
        }

        _temporaryHome = CreateTemporaryHome();
        _embedded = await EmbeddedPostgres.StartAsync(_temporaryHome, NullLogger.Instance, TestContext.Current.CancellationToken);
        _server = new NpgsqlConnectionStringBuilder(_embedded.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_embedded is not null)
        {
            await _embedded.StopAsync();
        }

        if (_temporaryHome is not null)
        {
            Directory.Delete(_temporaryHome, recursive: true);
        }
    }

    /// <summary>A temporary directory the postgres system user can traverse (the tests may run as root).</summary>
    public static string CreateTemporaryHome()
    {
        var path = Path.Combine(Path.GetTempPath(), "provisioning-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }

        return path;
    }

    /// <summary>Creates an empty database with a unique name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string purpose, CancellationToken cancellationToken = default)
    {
        var server = _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not started.");
        var slug = new string([.. purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(24)]);
        var name = $"t_{slug}_{Guid.NewGuid():N}";
        var admin = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
    }
}
