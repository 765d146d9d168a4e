using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Tests;

/// <summary>A class fixture: a fresh database of its own for each test class, with the schema (and Hangfire's) applied.</summary>
public sealed class MigratedDatabase(PostgresServerFixture server) : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        ConnectionString = await server.CreateDatabaseAsync("class", TestContext.Current.CancellationToken);
        DatabaseMigrator.Migrate(ConnectionString, NullLogger.Instance);
        // Hangfire's schema too (creating the storage installs it): the ledger's claim statement reads its queue.
        _ = Provisioning.Coordinator.Queueing.HangfireStorageFactory.Create(ConnectionString);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
