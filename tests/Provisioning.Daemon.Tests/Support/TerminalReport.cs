using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon.Tests.Support;

/// <summary>The terminal report a daemon sent: exactly one of the two is set.</summary>
public sealed record TerminalReport(CompletedJob? Completed, FailedJob? Failed)
{
    public CompletedJob RequireCompleted(string logs) =>
        Completed ?? throw new Xunit.Sdk.XunitException($"The job failed: {Failed!.Error} ({Failed.ErrorCode}).\nLogs:\n{logs}");

    public FailedJob RequireFailed(string logs) =>
        Failed ?? throw new Xunit.Sdk.XunitException($"The job completed, but a failure was expected.\nLogs:\n{logs}");
}
