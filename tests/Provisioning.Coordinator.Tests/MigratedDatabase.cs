using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Tests;

/// <summary>A class fixture: a fresh database of its own for each test class, with the schema applied.</summary>
public sealed class MigratedDatabase(PostgresServerFixture server) : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        ConnectionString = await server.CreateDatabaseAsync("class", TestContext.Current.CancellationToken);
        DatabaseMigrator.Migrate(ConnectionString, NullLogger.Instance);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
