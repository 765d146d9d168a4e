using System.Net;
using System.Text.Json;

using Npgsql;

using Provisioning.Testing;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// The coordinator's answer while its PostgreSQL cannot be reached: a real server whose database connections go through
/// a TCP relay that the test cuts (as a partition or a stopped database would), so every new connection is refused.
/// </summary>
public sealed class DatabaseOutageTests(PostgresServerFixture server)
{
    [Fact]
    public async Task Request_WhileTheDatabaseIsUnreachable_Answers503WithTheReasonNot500()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var direct = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync("outage", cancellationToken));
        using var relay = new TcpRelay(new IPEndPoint(IPAddress.Loopback, direct.Port));
        var relayed = new NpgsqlConnectionStringBuilder(direct.ConnectionString) { Host = "127.0.0.1", Port = relay.Port, Timeout = 3 };
        await using var coordinator = await ApiServer.StartOnAsync(relayed.ConnectionString, cancellationToken);
        using var admin = await coordinator.AdminAsync();
        using (var healthy = await admin.GetAsync(new Uri("api/v1/workspaces", UriKind.Relative), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        relay.Cut();

        // The token's authentication is the request's first query: it fails before any endpoint runs.
        using var response = await admin.GetAsync(new Uri("api/v1/workspaces", UriKind.Relative), cancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        Assert.Equal("Database unavailable", problem.RootElement.GetProperty("title").GetString());
        Assert.Contains("cannot reach its PostgreSQL database", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
