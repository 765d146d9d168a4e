using Microsoft.Extensions.Logging;

namespace Provisioning.Examples.EchoProvisioner;

/// <summary>Log messages of the echo provisioner (event ids 1-99).</summary>
internal static partial class EchoLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Parsed the template: {VariableCount} variable(s)")]
    public static partial void Parsed(ILogger logger, int variableCount);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Planned {Transition}: {ResourceCount} resource(s)")]
    public static partial void Planned(ILogger logger, string transition, int resourceCount);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Applied {Transition}: {ResourceCount} resource(s)")]
    public static partial void Applied(ILogger logger, string transition, int resourceCount);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Echo provisioner listening on {SocketPath}; stop it with Ctrl+C or SIGTERM")]
    public static partial void Listening(ILogger logger, string socketPath);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Echo provisioner stopped")]
    public static partial void Stopped(ILogger logger);
}
