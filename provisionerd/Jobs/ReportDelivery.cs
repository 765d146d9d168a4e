using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Operability;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// Delivers a terminal report so that its state is never lost (invariant 3): the report is in the
/// <see cref="ReportSpool"/> before it is sent; the spooled copy and the job's work directory go only once
/// the coordinator acknowledged it; a report refused for good is kept under <c>unaccepted/</c>; without a
/// definitive answer it stays spooled for the next start. Used by the job runner at a job's end and by the
/// daemon at start for the reports an earlier run left.
/// </summary>
internal sealed class ReportDelivery(ReportSpool spool, TerminalReportSender sender, ProvisionerDaemonOptions options, ILogger logger)
{
    public ReportSpool Spool => spool;

    /// <summary>Writes the report to the spool; a spool that cannot be written is logged loudly and the report is sent anyway.</summary>
    public async Task SpoolAsync(TerminalReport report, CancellationToken cancellationToken)
    {
        try
        {
            await spool.SaveAsync(report, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DaemonLog.SpoolFailed(logger, ex, report.Kind, report.JobId, spool.Directory);
        }
    }

    /// <summary>
    /// Sends a spooled report until the coordinator answers definitively (or <paramref name="cancellationToken"/>
    /// fires, leaving it spooled), and acts on the answer. A completion whose results were refused is
    /// re-spooled and sent as a failure carrying the state; <paramref name="onResultsRefused"/> is told first.
    /// </summary>
    /// <returns>The final answer, and the report it answered.</returns>
    public async Task<(ReportAnswer Answer, TerminalReport Report)> DeliverAsync(
        TerminalReport report, Func<TerminalReport, CancellationToken, Task>? onResultsRefused, CancellationToken cancellationToken)
    {
        while (true)
        {
            var answer = await sender.SendAsync(report, cancellationToken).ConfigureAwait(false);
            if (answer.RefusedResults && report.Completed is not null)
            {
                DaemonLog.ResultsRefused(logger, report.JobId, answer.Status, answer.Detail);
                report = report.AsRefusedResults(answer.Detail);
                await SpoolAsync(report, CancellationToken.None).ConfigureAwait(false);
                if (onResultsRefused is not null)
                {
                    await onResultsRefused(report, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            switch (answer.Kind)
            {
                case ReportAnswerKind.Acknowledged:
                    Forget(report.JobId);
                    DaemonLog.ReportAcknowledged(logger, report.Kind, report.JobId);
                    break;
                case ReportAnswerKind.Refused:
                    if (!spool.Contains(report.JobId))
                    {
                        // The spool could not be written before the send: try once more, so the state survives this process.
                        await SpoolAsync(report, CancellationToken.None).ConfigureAwait(false);
                    }

                    var kept = Unaccept(report, answer);
                    DaemonLog.ReportRefused(logger, report.Kind, report.JobId, answer.Status, answer.Detail, kept);
                    RemoveWorkDirectory(report.JobId);
                    break;
                default:
                    DaemonLog.ReportDeferred(logger, report.Kind, report.JobId, answer.Status, answer.Detail);
                    break;
            }

            return (answer, report);
        }
    }

    private string Unaccept(TerminalReport report, ReportAnswer answer)
    {
        try
        {
            return spool.MoveToUnaccepted(report.JobId, $"The coordinator refused this {report.Kind} report of job {report.JobId} ({answer.Status}): {answer.Detail}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left where it is: re-sent (and refused again) at the next start rather than lost.
            DaemonLog.CleanupFailed(logger, ex, spool.EntryOf(report.JobId));
            return spool.EntryOf(report.JobId);
        }
    }

    private void Forget(string jobId)
    {
        try
        {
            spool.Remove(jobId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An acknowledged report left on disk is only sent again (the coordinator answers a repeat with OK).
            DaemonLog.CleanupFailed(logger, ex, spool.EntryOf(jobId));
        }

        RemoveWorkDirectory(jobId);
    }

    private void RemoveWorkDirectory(string jobId)
    {
        var directory = Path.Combine(options.JobsDirectory, ProvisionerDaemonOptions.SafeDirectoryName(jobId));
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DaemonLog.CleanupFailed(logger, ex, directory);
        }
    }
}
