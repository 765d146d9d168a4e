using Microsoft.Extensions.Logging;

namespace Provisioning.Coordinator.Queueing;

internal static partial class CoordinatorMaintenanceLog
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Job {JobId} was failed by the reaper ({ErrorCode})")]
    public static partial void Reaped(ILogger logger, Guid jobId, string errorCode);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "{Count} pending job(s) had no Hangfire job and were enqueued again")]
    public static partial void Republished(ILogger logger, int count);

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "{Count} log line(s) of jobs past the log retention were deleted")]
    public static partial void LogsExpired(ILogger logger, long count);

    [LoggerMessage(EventId = 503, Level = LogLevel.Information, Message = "{Count} stored file(s) nothing refers to were deleted")]
    public static partial void FilesCollected(ILogger logger, int count);
}
