using Google.Protobuf;

using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// A job's terminal report: exactly one of <paramref name="Completed"/> and <paramref name="Failed"/>, and the
/// state Terraform wrote (null or empty when the job has none). The messages never carry the state blob
/// themselves: it is attached at each send (inline, or uploaded first), so a report re-sent after a restart
/// uploads its state again.
/// </summary>
internal sealed record TerminalReport(string JobId, CompletedJob? Completed, FailedJob? Failed, ByteString? State)
{
    /// <summary>Whether this report ends the job as canceled.</summary>
    public bool IsCanceled => Failed?.ErrorCode == JobErrorCodes.Canceled;

    /// <summary>"complete" or "fail", for log lines.</summary>
    public string Kind => Completed is not null ? "complete" : "fail";

    /// <summary>
    /// The failure to report instead of a completion whose results the coordinator refused (malformed, too
    /// large): the job fails with that reason and keeps its state, instead of running until it is reaped.
    /// </summary>
    public TerminalReport AsRefusedResults(string detail)
    {
        var failed = new FailedJob
        {
            JobId = JobId,
            Error = $"The coordinator refused the job's results: {detail}",
            ErrorCode = JobErrorCodes.CoordinatorRefused,
        };
        switch (Completed?.TypeCase)
        {
            case CompletedJob.TypeOneofCase.WorkspaceBuild:
                failed.WorkspaceBuild = new FailedJob.Types.WorkspaceBuild();
                failed.WorkspaceBuild.Timings.AddRange(Completed.WorkspaceBuild.Timings);
                break;
            case CompletedJob.TypeOneofCase.TemplateImport:
                failed.TemplateImport = new FailedJob.Types.TemplateImport();
                break;
            case CompletedJob.TypeOneofCase.TemplateDryRun:
                failed.TemplateDryRun = new FailedJob.Types.TemplateDryRun();
                break;
        }

        return new TerminalReport(JobId, null, failed, State);
    }
}
