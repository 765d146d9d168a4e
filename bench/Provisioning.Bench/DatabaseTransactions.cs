using Dapper;

using Npgsql;

namespace Provisioning.Bench;

/// <summary>
/// Transactions the database counted (pg_stat_database; every autocommit statement is one), to see how many
/// a job costs. A backend flushes its counts at most once a second; one that goes idle within a second of
/// its last flush waits PostgreSQL's idle interval (10 s, PGSTAT_IDLE_INTERVAL) before flushing again, so a
/// reading waits 11 s: with a shorter wait the counts of a short run are mostly missing (measured: 0.5
/// transactions per raw-SQL lifecycle after 1.5 s, which does at least three).
/// </summary>
internal static class DatabaseTransactions
{
    public static async Task<long> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(11), cancellationToken).ConfigureAwait(false);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_stat_clear_snapshot()", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }
}
