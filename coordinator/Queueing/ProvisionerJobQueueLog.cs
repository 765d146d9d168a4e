using Microsoft.Extensions.Logging;

namespace Provisioning.Coordinator.Queueing;

internal static partial class ProvisionerJobQueueLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Job {JobId} enqueued on {Queue} as Hangfire job {HangfireJobId}")]
    public static partial void Enqueued(ILogger logger, Guid jobId, string queue, string hangfireJobId);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Could not move Hangfire job {HangfireJobId} to {State}; the dashboard may show a stale state")]
    public static partial void StateChangeFailed(ILogger logger, Exception exception, string hangfireJobId, string state);
}
