using System.Collections.Concurrent;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

using Npgsql;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Api.Jobs;

/// <summary>
/// One LISTEN connection per coordinator process on the channel log appends, job ends and cancels notify
/// (payload: the job id), fanned out to the followers of each job. Because the signal travels through
/// PostgreSQL, a follower here is woken by lines another replica stored. Followers re-read the database
/// after each wake, so a notification lost while reconnecting only delays them until their next timeout.
/// </summary>
internal sealed partial class JobLogNotifications(CoordinatorDatabase database, ILogger<JobLogNotifications> logger) : BackgroundService
{
    public const string Channel = "provisioner_job_logs";

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _waiters = new();

    /// <summary>A task that completes at the next notification about <paramref name="jobId"/>. Take it before reading the database, then await it.</summary>
    public Task NextAsync(Guid jobId)
    {
        var waiter = _waiters.GetOrAdd(jobId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return waiter.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.DataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                connection.Notification += (_, notification) =>
                {
                    if (Guid.TryParse(notification.Payload, out var jobId))
                    {
                        Wake(jobId);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }

                // Lines may have arrived while (re)connecting: everyone re-reads.
                WakeAll();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A broken connection must not end the listener; it reconnects and wakes everyone to re-read.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                LogListenFailed(logger, exception);
                WakeAll();
                await Task.Delay(ReconnectDelay, stoppingToken).ConfigureAwait(false);
            }
        }

        WakeAll();
    }

    private void Wake(Guid jobId)
    {
        if (_waiters.TryRemove(jobId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    private void WakeAll()
    {
        foreach (var jobId in _waiters.Keys)
        {
            Wake(jobId);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Listening for job log notifications failed; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
