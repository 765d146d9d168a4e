using System.Diagnostics;

using Dapper;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Npgsql;

namespace Provisioning.Coordinator.Jobs;

/// <summary>
/// Records when this coordinator was able to receive daemons' reports: one row of coordinator_liveness per
/// uninterrupted interval, extended every <see cref="Interval"/> while the database answers. After a gap (this
/// process stalled, or the database was unreachable) a new interval starts, so the gap is never counted. The
/// reaper (<see cref="ProvisionerJobLedger.ReapAsync(TimeSpan, TimeSpan, CancellationToken)"/>) measures a job's
/// silence over these intervals only (docs/architecture.md, queueing: hung means no heartbeat while a coordinator could receive one).
/// </summary>
// The data source is resolved in ExecuteAsync: the host constructs hosted services before the database starts.
public sealed partial class CoordinatorLiveness(IServiceProvider services, IOptions<CoordinatorOptions> options, ILogger<CoordinatorLiveness> logger) : BackgroundService
{
    /// <summary>How often the current interval is extended: a tenth of the hang timeout, between 100 ms and 5 s.</summary>
    public TimeSpan Interval { get; } = TimeSpan.FromTicks(Math.Clamp(options.Value.JobHangTimeout.Ticks / 10, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(5).Ticks));

    /// <summary>Intervals older than this are deleted: well past any timeout the reaper measures.</summary>
    public static TimeSpan Retention(CoordinatorOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return (settings.JobHangTimeout > settings.JobPendingTimeout ? settings.JobHangTimeout : settings.JobPendingTimeout) + TimeSpan.FromDays(1);
    }

    /// <summary>Deletes intervals that ended more than <see cref="Retention"/> ago; returns how many.</summary>
    public static async Task<int> PruneAsync(NpgsqlDataSource dataSource, CoordinatorOptions settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM coordinator_liveness WHERE last_seen_at < now() - @Retention",
            new { Retention = Retention(settings) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var replica = $"{Environment.MachineName}:{Environment.ProcessId}";
        // A gap longer than this between two successful extensions starts a new interval.
        var maxGap = Interval * 3;
        Guid? current = null;
        var lastExtended = 0L;
        var failing = false;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                if (current is { } id && Stopwatch.GetElapsedTime(lastExtended) <= maxGap)
                {
                    var extended = await connection.ExecuteAsync(new CommandDefinition(
                        "UPDATE coordinator_liveness SET last_seen_at = now() WHERE id = @Id AND last_seen_at > now() - @MaxGap",
                        new { Id = id, MaxGap = maxGap },
                        cancellationToken: stoppingToken)).ConfigureAwait(false);
                    current = extended == 1 ? id : null;
                }
                else
                {
                    current = null;
                }

                current ??= await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
                    "INSERT INTO coordinator_liveness (replica) VALUES (@Replica) RETURNING id",
                    new { Replica = replica },
                    cancellationToken: stoppingToken)).ConfigureAwait(false);
                lastExtended = Stopwatch.GetTimestamp();
                if (failing)
                {
                    failing = false;
                    LogRecovered(logger);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                current = null;
                if (!failing)
                {
                    failing = true;
                    LogFailing(logger, exception);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Cannot record this coordinator's liveness (the database is unreachable); the reaper will not count this time against running jobs")]
    private static partial void LogFailing(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 611, Level = LogLevel.Information, Message = "The database answers again; liveness recorded from now on")]
    private static partial void LogRecovered(ILogger logger);
}
