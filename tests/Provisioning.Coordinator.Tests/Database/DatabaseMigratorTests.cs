using Dapper;

using Microsoft.Extensions.Logging.Abstractions;

using Npgsql;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Tests.Database;

public sealed class DatabaseMigratorTests(PostgresServerFixture server)
{
    private static readonly string[] ExpectedTables =
    [
        "api_keys", "coordinator_liveness", "file_chunks", "files", "provisioner_daemons", "provisioner_job_files", "provisioner_job_logs",
        "provisioner_job_timings", "provisioner_jobs", "provisioner_keys", "provisioner_queues", "template_version_dry_runs", "template_version_parameters",
        "template_version_preset_parameters", "template_version_presets", "template_version_variables", "template_version_workspace_tags", "template_versions", "templates", "users", "workspace_agent_devcontainers", "workspace_agents", "workspace_apps",
        "workspace_build_parameters", "workspace_builds", "workspace_orphaned_states", "workspace_resource_metadata", "workspace_resources",
        "workspaces",
    ];

    [Fact]
    public async Task Migrate_EmptyDatabase_CreatesEveryTable()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await server.CreateDatabaseAsync("migrate_empty", cancellationToken);

        var applied = DatabaseMigrator.Migrate(connectionString, NullLogger.Instance);

        Assert.Equal(DatabaseMigrator.ScriptNames, applied);
        await using var connection = new NpgsqlConnection(connectionString);
        var tables = await connection.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schemaversions' ORDER BY table_name");
        Assert.Equal(ExpectedTables, tables);
    }

    [Fact]
    public async Task Migrate_SecondStart_AppliesNothingAndKeepsData()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await server.CreateDatabaseAsync("migrate_twice", cancellationToken);
        DatabaseMigrator.Migrate(connectionString, NullLogger.Instance);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.ExecuteAsync("INSERT INTO users (username, email) VALUES ('alice', 'alice@example.com')");
        }

        var applied = DatabaseMigrator.Migrate(connectionString, NullLogger.Instance);

        Assert.Empty(applied);
        await using var check = new NpgsqlConnection(connectionString);
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("SELECT count(*) FROM users WHERE username = 'alice'"));
    }

    [Fact]
    public async Task Migrate_FourReplicasStartingTogether_AllSucceedAndEachScriptIsAppliedOnce()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await server.CreateDatabaseAsync("migrate_race", cancellationToken);

        // Without the advisory lock, replicas that start together run the same scripts at once, and all but one
        // fail on objects another just created (or deadlock on their locks).
        using var start = new Barrier(4);
        var replicas = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait(cancellationToken);
            return DatabaseMigrator.Migrate(connectionString, NullLogger.Instance);
        }, cancellationToken)).ToList();
        var applied = await Task.WhenAll(replicas).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);

        Assert.Equal(DatabaseMigrator.ScriptNames.Count, applied.Sum(scripts => scripts.Count));
        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal(DatabaseMigrator.ScriptNames.Count, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schemaversions"));
    }

    [Fact]
    public void ScriptNames_AreNumberedInOrder()
    {
        var numbers = DatabaseMigrator.ScriptNames
            .Select(name => name["Provisioning.Coordinator.Database.Migrations.".Length..])
            .Select(file => int.Parse(file[..4], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

        // Unique and ascending; a gap is allowed, because numbers are handed out to branches that merge in any order.
        Assert.NotEmpty(numbers);
        Assert.Equal(1, numbers[0]);
        Assert.Equal(numbers.Order().Distinct(), numbers);
    }
}
