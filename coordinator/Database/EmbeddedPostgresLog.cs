using Microsoft.Extensions.Logging;

namespace Provisioning.Coordinator.Database;

internal static partial class EmbeddedPostgresLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Initialising the built-in PostgreSQL cluster in {DataDirectory} with {Binaries}")]
    public static partial void Initialising(ILogger logger, string dataDirectory, string binaries);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Starting the built-in PostgreSQL on 127.0.0.1:{Port} ({DataDirectory})")]
    public static partial void Starting(ILogger logger, int port, string dataDirectory);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "The built-in PostgreSQL in {DataDirectory} is already running on port {Port}; using it")]
    public static partial void AlreadyRunning(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Port {OldPort} of the built-in PostgreSQL is taken by another program; moving to port {NewPort}")]
    public static partial void PortMoved(ILogger logger, int oldPort, int newPort);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Stopping the built-in PostgreSQL ({DataDirectory})")]
    public static partial void Stopping(ILogger logger, string dataDirectory);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Stopping the built-in PostgreSQL failed: {Output}")]
    public static partial void StopFailed(ILogger logger, string output);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "The postgres user cannot reach {HomeDirectory}; the built-in cluster lives in {DataDirectory} instead")]
    public static partial void DataOutsideHome(ILogger logger, string homeDirectory, string dataDirectory);
}
