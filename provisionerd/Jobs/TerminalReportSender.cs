using Google.Protobuf;

using Grpc.Core;

using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Coordinator;
using Provisioning.Daemon.Operability;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// The one place that sends a terminal report (CompleteJob or FailJob) and interprets the coordinator's
/// answer. Each attempt attaches the state again (inline, or uploaded first when large), so a report read
/// back from the spool after a restart does not assume the coordinator kept an earlier upload. Transient
/// failures (coordinator unreachable, restarting) are retried with backoff until <c>cancellationToken</c>
/// fires; every other answer is definitive and returned as a <see cref="ReportAnswer"/>.
/// See docs/decisions/0004-daemon-holds-reports-and-logs.md.
/// </summary>
internal sealed class TerminalReportSender(CoordinatorConnection connection, ProvisionerDaemonOptions options, ILogger logger)
{
    public async Task<ReportAnswer> SendAsync(TerminalReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        try
        {
            await connection.RetryAsync(
                token => SendOnceAsync(report, token),
                cancellationToken,
                (exception, delay) => DaemonLog.ReportRetrying(logger, report.Kind, report.JobId, exception.StatusCode, exception.Status.Detail, delay)).ConfigureAwait(false);

            // Recorded, a retry of a recorded report, or a late report whose state the coordinator recorded on its
            // build or kept as an orphaned state (CoordinatorConnection logs which): either way the coordinator has
            // the state, so the daemon's copy may go.
            return ReportAnswer.Acknowledged;
        }
        catch (RpcException ex) when (CoordinatorConnection.IsTransient(ex))
        {
            // Only when the caller gave up (RetryAsync retries these otherwise): no answer, so nothing is
            // concluded about the report, which stays spooled.
            throw new OperationCanceledException($"Gave up sending the {report.Kind} report of job {report.JobId}; it stays spooled.", ex, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            // The coordinator does not know this daemon right now (e.g. its record was cleaned up): not an answer
            // about the report, which is kept and sent again once the daemon registered anew.
            return new ReportAnswer(ReportAnswerKind.Deferred, ex.StatusCode, ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            // RetryAsync rethrows only what is not transient: NotFound, PermissionDenied, InvalidArgument,
            // FailedPrecondition, DataLoss... The coordinator will never take this report as it is.
            return new ReportAnswer(ReportAnswerKind.Refused, ex.StatusCode, ex.Status.Detail);
        }
    }

    private async Task<ReportJobResponse> SendOnceAsync(TerminalReport report, CancellationToken cancellationToken)
    {
        if (report.Completed is { } completed)
        {
            if (completed.WorkspaceBuild is { } build)
            {
                build.State = await ToBlobAsync(report.JobId, report.State ?? ByteString.Empty, cancellationToken).ConfigureAwait(false);
            }

            return await connection.CompleteJobAsync(completed, cancellationToken).ConfigureAwait(false);
        }

        var failed = report.Failed ?? throw new InvalidOperationException($"The report of job {report.JobId} is neither a completion nor a failure.");
        if (failed.WorkspaceBuild is { } failedBuild && report.State is { IsEmpty: false } state)
        {
            failedBuild.State = await ToBlobAsync(report.JobId, state, cancellationToken).ConfigureAwait(false);
        }

        return await connection.FailJobAsync(failed, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Blob> ToBlobAsync(string jobId, ByteString state, CancellationToken cancellationToken)
    {
        if (state.Length <= options.InlineStateLimitBytes)
        {
            return new Blob { Inline = state };
        }

        return new Blob { File = await connection.UploadAsync(jobId, "state", state.Memory, cancellationToken).ConfigureAwait(false) };
    }
}
