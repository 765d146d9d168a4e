using Dapper;

using Npgsql;

using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Workspaces;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// Terminal reports (CompleteJob, FailJob): the one place where what a daemon reports at a job's end is checked
/// and stored, in the transaction that ends the job. A report that arrives after its job ended without one is
/// late, never discarded: its state goes to <see cref="WorkspaceStates"/>, and the answer tells the daemon
/// what became of it.
/// </summary>
public sealed class JobReports(ProvisionerJobQueue queue)
{
    /// <summary>Ends the job as succeeded with what <paramref name="report"/> carries.</summary>
    public async Task<ReportJobResponse> CompleteAsync(Guid daemonId, Guid jobId, CompletedJob report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        var response = new ReportJobResponse();
        await queue.CompleteAsync(
            jobId,
            daemonId,
            async (connection, transaction, completion) =>
            {
                RequireMatchingType(completion.Job, report.TypeCase.ToString());
                var state = report.TypeCase == CompletedJob.TypeOneofCase.WorkspaceBuild
                    ? await ReadStateAsync(connection, transaction, jobId, daemonId, report.WorkspaceBuild.State, cancellationToken).ConfigureAwait(false)
                    : null;
                var outcome = await RecordStateAsync(connection, transaction, completion, daemonId, state, cancellationToken).ConfigureAwait(false);
                var storeResults = completion.Outcome == CompletionOutcome.Completed
                    || (outcome == StateRecordOutcome.LateRecorded && !await JobResultWriter.HasResourcesAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false));
                if (storeResults)
                {
                    await JobResultWriter.WriteCompletedAsync(connection, transaction, jobId, report, cancellationToken).ConfigureAwait(false);
                }

                Describe(response, completion, outcome);
                await NoteLateAsync(connection, transaction, completion, response, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>Ends the job as failed (canceled, when a user canceled it) with its partial state.</summary>
    public async Task<ReportJobResponse> FailAsync(Guid daemonId, Guid jobId, FailedJob report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        var response = new ReportJobResponse();
        await queue.FailAsync(
            jobId,
            daemonId,
            report.Error,
            report.ErrorCode.Length == 0 ? null : report.ErrorCode,
            async (connection, transaction, completion) =>
            {
                var state = report.TypeCase == FailedJob.TypeOneofCase.WorkspaceBuild
                    ? await ReadStateAsync(connection, transaction, jobId, daemonId, report.WorkspaceBuild.State, cancellationToken).ConfigureAwait(false)
                    : null;
                var outcome = await RecordStateAsync(connection, transaction, completion, daemonId, state, cancellationToken).ConfigureAwait(false);
                if (completion.Outcome == CompletionOutcome.Completed)
                {
                    await JobResultWriter.WriteFailedAsync(connection, transaction, jobId, report, cancellationToken).ConfigureAwait(false);
                }

                Describe(response, completion, outcome);
                await NoteLateAsync(connection, transaction, completion, response, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// The bytes of a reported state: inline, or a file that this daemon uploaded for this job (docs/architecture.md, trust boundaries: a
    /// report can name no other file, so a daemon cannot make another job's or another user's file a build's state).
    /// </summary>
    private static async Task<byte[]?> ReadStateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, Guid daemonId, Blob? blob, CancellationToken cancellationToken)
    {
        switch (blob?.ContentCase)
        {
            case Blob.ContentOneofCase.Inline:
                return blob.Inline.ToByteArray();
            case Blob.ContentOneofCase.File:
                var hash = blob.File.Id.ToLowerInvariant();
                var uploaded = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT EXISTS (SELECT 1 FROM provisioner_job_files WHERE job_id = @JobId AND hash = @Hash AND daemon_id = @DaemonId)",
                    new { JobId = jobId, Hash = hash, DaemonId = daemonId },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (!uploaded)
                {
                    throw new ArgumentException($"File {blob.File.Id} was not uploaded by this daemon for job {jobId}: upload the state with UploadFile for this job, then report it.");
                }

                return await FileStore.ReadAllAsync(connection, transaction, hash, cancellationToken).ConfigureAwait(false);
            default:
                return null;
        }
    }

    private static Task<StateRecordOutcome> RecordStateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, JobCompletion completion, Guid daemonId, byte[]? state, CancellationToken cancellationToken) =>
        completion.Outcome switch
        {
            CompletionOutcome.Completed => WorkspaceStates.RecordReportedAsync(connection, transaction, completion.Job.Id, daemonId, state, endedByThisReport: true, cancellationToken),
            CompletionOutcome.EndedWithoutReport => WorkspaceStates.RecordReportedAsync(connection, transaction, completion.Job.Id, daemonId, state, endedByThisReport: false, cancellationToken),
            _ => Task.FromResult(StateRecordOutcome.AlreadyRecorded),
        };

    private static void Describe(ReportJobResponse response, JobCompletion completion, StateRecordOutcome outcome)
    {
        var job = completion.Job;
        var ended = $"job {job.Id} had already ended ({job.Status.ToText()}{(job.Error is { Length: > 0 } error ? ": " + error : string.Empty)})";
        (response.Outcome, response.Message) = (completion.Outcome, outcome) switch
        {
            (CompletionOutcome.Completed, _) => (ReportJobResponse.Types.Outcome.Recorded, $"Job {job.Id} ended {job.Status.ToText()}."),
            (CompletionOutcome.AlreadyCompleted, _) => (ReportJobResponse.Types.Outcome.AlreadyRecorded, $"Job {job.Id} was ended by an earlier copy of this report; nothing changed."),
            (_, StateRecordOutcome.LateRecorded) => (ReportJobResponse.Types.Outcome.LateStateRecorded,
                $"The report arrived late ({ended}); its state was recorded on the build, which is still the workspace's latest."),
            (_, StateRecordOutcome.LateOrphaned) => (ReportJobResponse.Types.Outcome.LateStateOrphaned,
                $"The report arrived late ({ended}) and a newer build exists: its state was kept as an orphaned state (see `provisioning state orphans`)."),
            (_, StateRecordOutcome.AlreadyRecorded) => (ReportJobResponse.Types.Outcome.AlreadyRecorded,
                $"The report arrived late ({ended}); its state had been recorded by an earlier copy of this report."),
            _ => (ReportJobResponse.Types.Outcome.LateNothingToKeep, $"The report arrived late ({ended}) and carried no state to keep."),
        };
    }

    /// <summary>A late report leaves a line in the job's log, so whoever reads the job sees what became of its state.</summary>
    private static Task NoteLateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobCompletion completion, ReportJobResponse response, CancellationToken cancellationToken) =>
        completion.Outcome == CompletionOutcome.EndedWithoutReport
            ? JobLogWriter.AppendNoticeAsync(connection, transaction, completion.Job.Id, "warn", response.Message, cancellationToken)
            : Task.CompletedTask;

    private static void RequireMatchingType(ProvisionerJob job, string reportedType)
    {
        var expected = job.Type switch
        {
            ProvisionerJobType.WorkspaceBuild => nameof(CompletedJob.TypeOneofCase.WorkspaceBuild),
            ProvisionerJobType.TemplateVersionImport => nameof(CompletedJob.TypeOneofCase.TemplateImport),
            ProvisionerJobType.TemplateVersionDryRun => nameof(CompletedJob.TypeOneofCase.TemplateDryRun),
            _ => reportedType,
        };
        if (reportedType != expected)
        {
            throw new ArgumentException($"Job {job.Id} is a {job.Type.ToText()} job; complete it with `{expected}` results, not `{reportedType}`.");
        }
    }
}
