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
