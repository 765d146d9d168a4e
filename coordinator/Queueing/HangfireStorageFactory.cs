using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace Provisioning.Coordinator.Queueing;

/// <summary>Hangfire's storage for the coordinator: its own "hangfire" schema in the coordinator's database.</summary>
public static class HangfireStorageFactory
{
    public const string SchemaName = "hangfire";

    public static PostgreSqlStorage Create(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = SchemaName,
            PrepareSchemaIfNecessary = true,
            // Only the coordinator's own recurring job is fetched through Hangfire (daemons' jobs are claimed by
            // JobAcquirer with its own statement and listener): long polling lets that worker wake on a NOTIFY,
            // the poll interval is the fallback.
            EnableLongPolling = true,
            QueuePollInterval = TimeSpan.FromSeconds(2),
            UseNativeDatabaseTransactions = true,
            InvisibilityTimeout = TimeSpan.FromMinutes(5),
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }
}
