using Microsoft.Extensions.Logging;

namespace Provisioning.Coordinator.Queueing;

internal static partial class JobAcquirerLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Job {JobId} acquired by daemon {Daemon} (queues {Queues})")]
    public static partial void Acquired(ILogger logger, Guid jobId, string daemon, string queues);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "{Count} queue entries on {Queues} named jobs that cannot be claimed (canceled, ended, held, or not provisioner jobs); removed")]
    public static partial void Unclaimable(ILogger logger, int count, string queues);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "Fetching jobs for queues {Queues} failed; retrying")]
    public static partial void FetchFailed(ILogger logger, Exception exception, string queues);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Refreshing the queue list failed; retrying")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 305, Level = LogLevel.Information, Message = "Job {JobId} handed back: daemon {Daemon} stopped waiting before it received the job")]
    public static partial void Released(ILogger logger, Guid jobId, string daemon);

    [LoggerMessage(EventId = 309, Level = LogLevel.Debug, Message = "The database closed the queue listener (server shutting down or restarting); reconnecting")]
    public static partial void ListenerClosedByServer(ILogger logger);
}
