using System.Diagnostics;

using Dapper;

using Npgsql;

namespace Provisioning.Bench;

/// <summary>
/// The reference ceiling: the same lifecycle as plain SQL on the same database (insert; claim with
/// FOR UPDATE SKIP LOCKED; complete), P producers and W workers, in a table of its own that is dropped after.
/// </summary>
internal static class RawSqlScenario
{
    private const string Table = "bench_raw_jobs";

    public static async Task<ScenarioResult> RunAsync(BenchCoordinator coordinator, BenchOptions options, CancellationToken cancellationToken)
    {
        var dataSource = coordinator.DataSource;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                $"""
                DROP TABLE IF EXISTS {Table};
                CREATE TABLE {Table} (
                    id uuid PRIMARY KEY,
                    queue text NOT NULL,
                    input jsonb NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    started_at timestamptz,
                    worker_id uuid,
                    completed_at timestamptz);
                CREATE INDEX ON {Table} (queue, created_at) WHERE started_at IS NULL;
                """).ConfigureAwait(false);
        }

        try
        {
            var transactionsBefore = await DatabaseTransactions.ReadAsync(dataSource, cancellationToken).ConfigureAwait(false);
            var loadBefore = Load.Now();
            var startedAt = Load.Timestamp();
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(options.Duration);
            var remaining = options.Jobs;
            var inserted = 0;
            var completed = 0;
            var producersDone = false;
            var start = Stopwatch.GetTimestamp();
            var producers = Enumerable.Range(0, options.Producers).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Decrement(ref remaining) >= 0 && !bounded.IsCancellationRequested)
                {
                    await using var connection = await dataSource.OpenConnectionAsync(bounded.Token).ConfigureAwait(false);
                    await connection.ExecuteAsync(new CommandDefinition(
                        $"INSERT INTO {Table} (id, queue, input) VALUES (@Id, 'terraform', '{{}}'::jsonb)",
                        new { Id = Guid.CreateVersion7() },
                        cancellationToken: bounded.Token)).ConfigureAwait(false);
                    Interlocked.Increment(ref inserted);
                }
            }, CancellationToken.None)).ToArray();
            var workers = Enumerable.Range(0, options.RawWorkers).Select(_ => Task.Run(async () =>
            {
                var workerId = Guid.NewGuid();
                while (!bounded.IsCancellationRequested)
                {
                    await using var connection = await dataSource.OpenConnectionAsync(bounded.Token).ConfigureAwait(false);
                    var claimed = await Claim(connection, workerId, bounded.Token).ConfigureAwait(false);
                    if (claimed is null)
                    {
                        if (Volatile.Read(ref producersDone) && Volatile.Read(ref completed) >= Volatile.Read(ref inserted))
                        {
                            return;
                        }

                        await Task.Delay(1, bounded.Token).ConfigureAwait(false);
                        continue;
                    }

                    await connection.ExecuteAsync(new CommandDefinition(
                        $"UPDATE {Table} SET completed_at = now() WHERE id = @Id AND worker_id = @WorkerId AND completed_at IS NULL",
                        new { Id = claimed, WorkerId = workerId },
                        cancellationToken: bounded.Token)).ConfigureAwait(false);
                    Interlocked.Increment(ref completed);
                }
            }, CancellationToken.None)).ToArray();

            var timedOut = false;
            try
            {
                await Task.WhenAll(producers).ConfigureAwait(false);
                Volatile.Write(ref producersDone, true);
                await Task.WhenAll(workers).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                timedOut = true;
            }

            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var loadAfter = Load.Now();
            var transactions = await DatabaseTransactions.ReadAsync(dataSource, cancellationToken).ConfigureAwait(false) - transactionsBefore;
            return new ScenarioResult(
                "raw-sql",
                startedAt,
                loadBefore,
                loadAfter,
                new Dictionary<string, int>(StringComparer.Ordinal)
                {
                    ["jobs"] = options.Jobs,
                    ["producers"] = options.Producers,
                    ["workers"] = options.RawWorkers,
                    ["duration_s"] = (int)options.Duration.TotalSeconds,
                },
                [
                    new Metric("lifecycles/s (insert, claim SKIP LOCKED, complete)", completed / seconds, "jobs/s"),
                    new Metric("jobs completed", completed, "jobs"),
                    new Metric("run stopped by the duration bound", timedOut ? 1 : 0, "bool"),
                    new Metric("database transactions per completed job (all, incl. idle polling)", completed > 0 ? (double)transactions / completed : double.NaN, "xact"),
                    new Metric("elapsed", seconds, "s"),
                ]);
        }
        finally
        {
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            await connection.ExecuteAsync($"DROP TABLE IF EXISTS {Table}").ConfigureAwait(false);
        }
    }

    private static Task<Guid?> Claim(NpgsqlConnection connection, Guid workerId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(
            $"""
            UPDATE {Table} SET started_at = now(), worker_id = @WorkerId
            WHERE id = (
                SELECT id FROM {Table} WHERE queue = 'terraform' AND started_at IS NULL
                ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            new { WorkerId = workerId },
            cancellationToken: cancellationToken));
}
