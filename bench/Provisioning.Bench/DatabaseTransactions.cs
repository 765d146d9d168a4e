using Dapper;

using Npgsql;

namespace Provisioning.Bench;

/// <summary>
/// Transactions the database counted (pg_stat_database; every autocommit statement is one), to see how many
/// a job costs. Backends report their counts when idle, at most about once a second, so a reading waits that long.
/// </summary>
internal static class DatabaseTransactions
{
    public static async Task<long> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(1.5), cancellationToken).ConfigureAwait(false);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_stat_clear_snapshot()", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }
}
