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
            // FetchNextJob LISTENs for the NOTIFY that every enqueue sends, so a job enqueued on any replica
            // wakes a waiting daemon at once; the poll interval is only the fallback for a lost notification.
            EnableLongPolling = true,
            QueuePollInterval = TimeSpan.FromSeconds(2),
            // Fetch with SELECT ... FOR UPDATE SKIP LOCKED in a transaction: concurrent fetch loops never
            // receive the same queue entry.
            UseNativeDatabaseTransactions = true,
            // A fetched entry is removed (or requeued) within milliseconds, once the ledger claim is done; an
            // entry left fetched by a coordinator that crashed in between becomes visible again after this.
            InvisibilityTimeout = TimeSpan.FromMinutes(5),
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }
}
