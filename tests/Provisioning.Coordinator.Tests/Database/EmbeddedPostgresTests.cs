using Dapper;

using Microsoft.Extensions.Logging.Abstractions;

using Npgsql;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Tests.Database;

public sealed class EmbeddedPostgresTests
{
    [Fact]
    public async Task StartAsync_SecondStartOnSameHome_ReusesClusterPortAndData()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var home = PostgresServerFixture.CreateTemporaryHome();
        try
        {
            int firstPort;
            await using (var first = await EmbeddedPostgres.StartAsync(home, NullLogger.Instance, cancellationToken))
            {
                firstPort = first.Port;
                await using var connection = new NpgsqlConnection(first.ConnectionString);
                await connection.ExecuteAsync("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')");
            }

            await using var second = await EmbeddedPostgres.StartAsync(home, NullLogger.Instance, cancellationToken);

            Assert.Equal(firstPort, second.Port);
            await using var check = new NpgsqlConnection(second.ConnectionString);
            Assert.Equal("still here", await check.ExecuteScalarAsync<string>("SELECT value FROM kept"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task StartAsync_AsRootWithAHomeThePostgresUserCannotEnter_KeepsDataInAPostgresOwnedDirectory()
    {
        if (!Environment.IsPrivilegedProcess || OperatingSystem.IsWindows())
        {
            Assert.Skip("Only root runs the built-in PostgreSQL as the postgres user.");
            return;
        }

        var cancellationToken = TestContext.Current.CancellationToken;
        var home = PostgresServerFixture.CreateTemporaryHome();
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string? dataDirectory = null;
        try
        {
            await using (var postgres = await EmbeddedPostgres.StartAsync(home, NullLogger.Instance, cancellationToken))
            {
                dataDirectory = postgres.DataDirectory;
                await using var connection = new NpgsqlConnection(postgres.ConnectionString);
                Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT 1"));
            }

            Assert.StartsWith("/var/lib/postgresql/provisioning/", dataDirectory, StringComparison.Ordinal);
            Assert.Equal(dataDirectory, File.ReadAllText(Path.Combine(home, "postgres", "data-directory")).Trim());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(home));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
            if (dataDirectory is not null)
            {
                Directory.Delete(Path.GetDirectoryName(dataDirectory)!, recursive: true);
            }
        }
    }

    [Fact]
    public async Task StopAsync_RunningCluster_RefusesConnectionsAfterwards()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var home = PostgresServerFixture.CreateTemporaryHome();
        try
        {
            var postgres = await EmbeddedPostgres.StartAsync(home, NullLogger.Instance, cancellationToken);
            var connectionString = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Pooling = false, Timeout = 3 }.ConnectionString;

            await postgres.StopAsync(cancellationToken);

            await using var connection = new NpgsqlConnection(connectionString);
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync(cancellationToken));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
