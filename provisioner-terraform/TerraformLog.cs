using Microsoft.Extensions.Logging;

using Provisioning.Terraform.Binaries;

namespace Provisioning.Terraform;

/// <summary>The provisioner's own diagnostics (for operators), apart from the job logs streamed to users.</summary>
internal static partial class TerraformLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Using {Flavor} {Version} at {Path}")]
    public static partial void BinaryResolved(ILogger logger, TerraformFlavor flavor, Version version, string path);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Installing Terraform {Version} for {Platform} from {BaseUrl}")]
    public static partial void Installing(ILogger logger, string version, string platform, Uri baseUrl);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Installed Terraform {Version} at {Path}")]
    public static partial void Installed(ILogger logger, string version, string path);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "Running terraform {Command} in {WorkDirectory}")]
    public static partial void CommandStarting(ILogger logger, string command, string workDirectory);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "terraform {Command} exited with {ExitCode} after {ElapsedMilliseconds} ms")]
    public static partial void CommandFinished(ILogger logger, string command, int exitCode, long elapsedMilliseconds);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "terraform {Command} canceled; sent an interrupt, killing it after {GracePeriod} if it has not exited")]
    public static partial void CommandInterrupted(ILogger logger, string command, TimeSpan gracePeriod);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "Waiting for the plugin cache lock {LockFile}")]
    public static partial void WaitingForInitLock(ILogger logger, string lockFile);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "{Operation} failed: {Error}")]
    public static partial void OperationFailed(ILogger logger, string operation, string error);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "{Operation} canceled")]
    public static partial void OperationCanceled(ILogger logger, string operation);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Could not read the module manifest {Path}")]
    public static partial void ModulesUnreadable(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 3030, Level = LogLevel.Information, Message = "{Description}")]
    public static partial void SandboxReady(ILogger logger, string description);

    [LoggerMessage(EventId = 3031, Level = LogLevel.Warning, Message = "{Description}")]
    public static partial void SandboxUnavailable(ILogger logger, string description);
}
