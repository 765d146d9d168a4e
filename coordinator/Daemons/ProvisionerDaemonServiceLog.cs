using Microsoft.Extensions.Logging;

namespace Provisioning.Coordinator.Daemons;

internal static partial class ProvisionerDaemonServiceLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Daemon {Daemon} ({DaemonId}) registered: provisioners {Provisioners}, {Slots} slot(s)")]
    public static partial void Registered(ILogger logger, string daemon, Guid daemonId, string provisioners, int slots);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Job {JobId} could not be sent to daemon {Daemon}; it was handed back to the queue")]
    public static partial void SendFailed(ILogger logger, Exception exception, Guid jobId, string daemon);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Job {JobId} reported by daemon {Daemon}: {Outcome}. {Detail}")]
    public static partial void Reported(ILogger logger, Guid jobId, string daemon, string outcome, string detail);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "An acquisition stream of daemon {Daemon} ended: its session is no longer valid (key revoked or registered again)")]
    public static partial void StreamEnded(ILogger logger, string daemon);
}
