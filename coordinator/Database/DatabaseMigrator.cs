using DbUp;
using DbUp.Engine;

using Microsoft.Extensions.Logging;

using Npgsql;

namespace Provisioning.Coordinator.Database;

/// <summary>
/// Applies the numbered SQL files under Database/Migrations (embedded in this assembly) that the
/// database has not seen yet, each in its own transaction; DbUp journals applied scripts in
/// public.schemaversions, so a second start applies nothing.
/// </summary>
public static class DatabaseMigrator
{
    private const string ResourcePrefix = "Provisioning.Coordinator.Database.Migrations.";

    /// <summary>Names of the migration scripts shipped with this build, in the order they apply.</summary>
    public static IReadOnlyList<string> ScriptNames { get; } =
        [.. typeof(DatabaseMigrator).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    /// <summary>The advisory lock every coordinator takes while it migrates (an arbitrary constant: "provisio" in ASCII).</summary>
    public const long AdvisoryLockKey = 0x70726F766973696F;

    /// <summary>
    /// Brings the database up to date; returns the scripts applied by this call. Runs under a session-level
    /// advisory lock, so replicas that start together migrate one after the other: the second finds the
    /// scripts journaled and applies nothing, instead of racing the first into duplicate-object errors.
    /// </summary>
    public static IReadOnlyList<string> Migrate(string connectionString, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(logger);

        using var lockConnection = new NpgsqlConnection(connectionString);
        lockConnection.Open();
        using (var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", lockConnection))
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
            // Waits for a replica that is migrating; the lock goes with the session if that replica dies.
            command.CommandTimeout = 0;
            command.ExecuteNonQuery();
        }

        try
        {
            return MigrateLocked(connectionString, logger);
        }
        finally
        {
            using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConnection);
            unlock.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLockKey });
            unlock.ExecuteNonQuery();
        }
    }

    private static IReadOnlyList<string> MigrateLocked(string connectionString, ILogger logger)
    {
        var upgrader = DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .WithTransactionPerScript()
            // Scripts contain `$$` function bodies; DbUp's $variable$ substitution must not touch them.
            .WithVariablesDisabled()
            .LogTo(logger)
            .Build();

        DatabaseUpgradeResult result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"Database migration {result.ErrorScript?.Name ?? "(unknown script)"} failed: {result.Error?.Message}. "
                + "The database was left at the last migration that succeeded; fix the cause (permissions, a conflicting object) and start again.",
                result.Error);
        }

        return [.. result.Scripts.Select(script => script.Name)];
    }
}
