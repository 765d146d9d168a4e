// The few fields of the coordinator's /api/v1 JSON (snake_case) the suite reads. Its own small records rather than the
// CLI's typed client: the suite must keep compiling while the API's records change under the fixes it checks.

namespace Provisioning.FaultInjection.Fleet;

internal sealed record JobView(Guid Id, string Status, Guid? WorkerId, string? Error, string? ErrorCode, DateTime? StartedAt, DateTime? CompletedAt)
{
    public bool IsTerminal => Status is "succeeded" or "failed" or "canceled";
}

internal sealed record BuildView(int BuildNumber, string Transition, bool HasState, JobView Job);

internal sealed record WorkspaceView(Guid Id, string Name, BuildView LatestBuild);

internal sealed record DaemonView(Guid Id, string Name);
