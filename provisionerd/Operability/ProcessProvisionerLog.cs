using Microsoft.Extensions.Logging;

namespace Provisioning.Daemon.Operability;

/// <summary>Log messages of the provisioner binaries the daemon supervises (<see cref="ProcessDaemonProvisioner"/>).</summary>
internal static partial class ProcessProvisionerLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Started the {Provisioner} provisioner {Path} (pid {ProcessId}) on {Socket}")]
    public static partial void Started(ILogger logger, string provisioner, string path, int processId, string socket);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "[{Provisioner}] {Line}")]
    public static partial void Output(ILogger logger, string provisioner, string line);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "The {Provisioner} provisioner (pid {ProcessId}) exited with code {ExitCode}; starting it again in {Delay} (exit {Exits} of {MaxRestarts} tolerated within the restart window); its running jobs fail")]
    public static partial void Exited(ILogger logger, string provisioner, int processId, int exitCode, int exits, int maxRestarts, TimeSpan delay);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Critical, Message = "Giving up on the {Provisioner} provisioner: {Reason}")]
    public static partial void GaveUp(ILogger logger, string provisioner, string reason);
}
