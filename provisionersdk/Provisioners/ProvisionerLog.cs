using Microsoft.Extensions.Logging;
using Provisioning.Sdk.Protocol;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Provisioning.Sdk.Provisioners;

/// <summary>Log messages of provisioner hosting (event ids 100-199; the daemon lifeline 7200-7209).</summary>
internal static partial class ProvisionerLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Provisioner session ended with a protocol error: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string reason);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Provisioner {RequestType} request failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, Request.TypeOneofCase requestType);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Could not remove the session work directory {WorkDirectory}")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, string workDirectory);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Provisioner session opened in {WorkDirectory} ({FileCount} files, {TotalBytes} bytes)")]
    public static partial void SessionOpened(ILogger logger, string workDirectory, int fileCount, long totalBytes);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Sending a response to the daemon failed; ending the session")]
    public static partial void SendFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Provisioner gRPC server listening on unix socket {SocketPath}")]
    public static partial void ServerListening(ILogger logger, string socketPath);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "Removed stale socket file {SocketPath}")]
    public static partial void StaleSocketRemoved(ILogger logger, string socketPath);

    [LoggerMessage(EventId = 7200, Level = LogLevel.Information, Message = "Started by a daemon: this provisioner stops when the daemon ends (its end of standard input closes)")]
    public static partial void LifelineWatching(ILogger logger);

    [LoggerMessage(EventId = 7201, Level = LogLevel.Warning, Message = "{Variable} is set but standard input is {Input}, not the daemon's pipe: this provisioner will not notice when its daemon ends")]
    public static partial void LifelineUnavailable(ILogger logger, string variable, string input);

    [LoggerMessage(EventId = 7202, Level = LogLevel.Warning, Message = "Standard input closed: the daemon that started this provisioner is gone, so it stops")]
    public static partial void LifelineClosed(ILogger logger);
}
