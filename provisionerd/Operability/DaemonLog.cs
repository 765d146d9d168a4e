using Grpc.Core;

using Microsoft.Extensions.Logging;

namespace Provisioning.Daemon.Operability;

/// <summary>The daemon's log messages, with stable event ids.</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Provisioner daemon {Name} starting with {Slots} slot(s) against {Coordinator}")]
    public static partial void Starting(ILogger logger, string name, int slots, Uri coordinator);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Provisioner {Provisioner} is usable: {Description}")]
    public static partial void ProvisionerChecked(ILogger logger, string provisioner, string description);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Registered as {DaemonId} with tags {Tags}")]
    public static partial void Registered(ILogger logger, string daemonId, string tags);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Critical, Message = "The coordinator refused the daemon's credentials ({Status}): {Detail}")]
    public static partial void AuthRefused(ILogger logger, StatusCode status, string detail);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Connected to the coordinator at {Coordinator}")]
    public static partial void Connected(ILogger logger, Uri coordinator);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Lost the coordinator at {Coordinator} ({Status}: {Detail}); reconnecting with backoff")]
    public static partial void Disconnected(ILogger logger, Uri coordinator, StatusCode status, string detail);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Draining: no new jobs; {Running} running job(s) may finish within the drain timeout {DrainTimeout}")]
    public static partial void Draining(ILogger logger, int running, TimeSpan drainTimeout);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Shutting down: canceling {Running} running job(s)")]
    public static partial void ShuttingDown(ILogger logger, int running);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Provisioner daemon stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Acquisition failed; retrying")]
    public static partial void AcquireFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Gave up on running jobs after the shutdown timeout {Timeout}; the coordinator will reap them")]
    public static partial void ShutdownTimedOut(ILogger logger, TimeSpan timeout);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Removed {Count} work directories left over by an earlier run in {Directory}")]
    public static partial void RemovedLeftovers(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Acquired {JobType} job {JobId}")]
    public static partial void JobAcquired(ILogger logger, string jobType, string jobId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Job {JobId} finished: {Outcome} in {Duration}")]
    public static partial void JobFinished(ILogger logger, string jobId, string outcome, TimeSpan duration);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Job {JobId} failed: {Error} ({ErrorCode})")]
    public static partial void JobFailed(ILogger logger, string jobId, string error, string errorCode);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Job {JobId} was canceled; asking the provisioner to stop")]
    public static partial void JobCanceled(ILogger logger, string jobId);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Job {JobId} did not stop within {Timeout} of its cancellation; failing it as canceled")]
    public static partial void JobForceCanceled(ILogger logger, string jobId, TimeSpan timeout);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "Job {JobId}: the coordinator no longer accepts updates for it ({Status}: {Detail}); canceling it, its terminal report and state are still offered")]
    public static partial void JobLost(ILogger logger, string jobId, StatusCode status, string detail);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Error, Message = "Job {JobId} failed inside the daemon")]
    public static partial void JobCrashed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Warning, Message = "Stopped {Count} process(es) an earlier run left working in the directory of job {JobId} (a Terraform orphaned when the daemon was killed), before reading its state")]
    public static partial void OrphansStopped(ILogger logger, int count, string jobId);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Warning, Message = "Job {JobId}: the report arrived after the job had ended ({Outcome}): {Detail}")]
    public static partial void LateReport(ILogger logger, string jobId, Sdk.Daemon.ReportJobResponse.Types.Outcome outcome, string detail);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "Could not remove the work directory {Directory}")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, string directory);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "Job {JobId}: could not send its {Kind} report ({Status}: {Detail}); the report and its state are spooled, retrying in {Delay}")]
    public static partial void ReportRetrying(ILogger logger, string kind, string jobId, StatusCode status, string detail, TimeSpan delay);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Critical, Message = "Job {JobId}: could not spool its {Kind} report under {Directory}; the state exists only in memory until the coordinator acknowledges it")]
    public static partial void SpoolFailed(ILogger logger, Exception exception, string kind, string jobId, string directory);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Job {JobId}: the coordinator acknowledged its {Kind} report; removed the spooled copy")]
    public static partial void ReportAcknowledged(ILogger logger, string kind, string jobId);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Critical, Message = "Job {JobId}: the coordinator refused its {Kind} report for good ({Status}: {Detail}); its report and state are kept in {Directory} for an operator (restore the state with 'provisioning state push')")]
    public static partial void ReportRefused(ILogger logger, string kind, string jobId, StatusCode status, string detail, string directory);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "Job {JobId}: the coordinator refused the job's results ({Status}: {Detail}); reporting the job as failed with its state instead")]
    public static partial void ResultsRefused(ILogger logger, string jobId, StatusCode status, string detail);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Warning, Message = "Job {JobId}: no answer to its {Kind} report yet ({Status}: {Detail}); it stays spooled and is sent again at the next start")]
    public static partial void ReportDeferred(ILogger logger, string kind, string jobId, StatusCode status, string detail);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Re-sending {Count} terminal report(s) the coordinator had not acknowledged before the daemon stopped, before taking new jobs")]
    public static partial void ResendingSpooled(ILogger logger, int count);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "Re-sending the {Kind} report of job {JobId} ({Index} of {Count}, state {StateBytes} bytes)")]
    public static partial void ResendingReport(ILogger logger, string kind, string jobId, int index, int count, int stateBytes);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Error, Message = "The spooled report in {Directory} cannot be read; moved it to {Unaccepted}")]
    public static partial void SpoolUnreadable(ILogger logger, Exception exception, string directory, string unaccepted);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Error, Message = "The work directory {Directory} of job {JobId}, left by an earlier run that stopped while the job ran, holds Terraform state; kept it in {Unaccepted} instead of deleting it")]
    public static partial void LeftoverStateKept(ILogger logger, string directory, string jobId, string unaccepted);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Warning, Message = "The drain timeout {Timeout} passed with {Running} job(s) still running; canceling them gracefully (their states are still reported)")]
    public static partial void DrainTimedOut(ILogger logger, TimeSpan timeout, int running);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Serving {Paths} on http://{Address}")]
    public static partial void Serving(ILogger logger, string paths, string address);
}
