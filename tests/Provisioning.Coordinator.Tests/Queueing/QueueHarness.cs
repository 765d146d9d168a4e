using Hangfire.PostgreSql;

using Microsoft.Extensions.Logging.Abstractions;

using Npgsql;

using Provisioning.Coordinator.Database;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Tests.Queueing;

/// <summary>A fresh database with the ledger, Hangfire storage, queue and acquirer on it: the queueing stack of one coordinator process.</summary>
internal sealed class QueueHarness : IAsyncDisposable
{
    private QueueHarness(string connectionString, JobAcquirerOptions? options = null)
    {
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
        Ledger = new ProvisionerJobLedger(DataSource);
        Storage = HangfireStorageFactory.Create(connectionString);
        Queue = new ProvisionerJobQueue(Storage, Ledger, NullLogger<ProvisionerJobQueue>.Instance);
        Acquirer = new JobAcquirer(Queue, options ?? new JobAcquirerOptions(), NullLogger<JobAcquirer>.Instance);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public ProvisionerJobLedger Ledger { get; }

    public PostgreSqlStorage Storage { get; }

    public ProvisionerJobQueue Queue { get; }

    public JobAcquirer Acquirer { get; }

    public static async Task<QueueHarness> CreateAsync(PostgresServerFixture server, CancellationToken cancellationToken, JobAcquirerOptions? options = null)
    {
        var connectionString = await server.CreateDatabaseAsync("queue", cancellationToken);
        DatabaseMigrator.Migrate(connectionString, NullLogger.Instance);
        return new QueueHarness(connectionString, options);
    }

    /// <summary>A second coordinator process on the same database (another replica).</summary>
    public QueueHarness CreateReplica(JobAcquirerOptions? options = null) => new(ConnectionString, options);

    /// <summary>Long enough for a slow CI machine to hand a job over.</summary>
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The test's token, canceled after <paramref name="after"/> (default <see cref="TestTimeout"/>).</summary>
    public static CancellationTokenSource Timeout(TimeSpan? after = null)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(after ?? TestTimeout);
        return source;
    }

    /// <summary>
    /// A daemon registered in this database (the claim statement gives jobs only to registered, unrevoked daemons,
    /// within their slots), with many slots so that a test can hold several jobs with one daemon.
    /// </summary>
    public DaemonIdentity Daemon(string name, params (string Key, string Value)[] tags)
    {
        var identity = new DaemonIdentity(Guid.NewGuid(), name, ["terraform"], tags.ToDictionary(tag => tag.Key, tag => tag.Value));
        using var command = DataSource.CreateCommand(
            "INSERT INTO provisioner_daemons (id, name, tags, provisioners, slots) VALUES ($1, $2, $3::jsonb, '{terraform}', 64)");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = identity.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name + "-" + identity.Id.ToString("N")[..8] });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ProvisionerTags.ToJson(ProvisionerTags.Canonicalize(identity.Tags)) });
        command.ExecuteNonQuery();
        return identity;
    }

    /// <summary>Records that a coordinator was up from <paramref name="from"/> ago until <paramref name="until"/> ago (the reaper counts only such time).</summary>
    public async Task RecordLivenessAsync(TimeSpan from, TimeSpan until, CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand(
            "INSERT INTO coordinator_liveness (replica, started_at, last_seen_at) VALUES ('test', now() - $1, now() - $2)");
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = until });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static NewProvisionerJob Job(params (string Key, string Value)[] tags) =>
        new(ProvisionerJobType.WorkspaceBuild, "terraform", tags.ToDictionary(tag => tag.Key, tag => tag.Value));

    public string? HangfireState(string hangfireJobId)
    {
        using var connection = Storage.GetConnection();
        return connection.GetStateData(hangfireJobId)?.Name;
    }

    public async ValueTask DisposeAsync()
    {
        await Acquirer.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}
