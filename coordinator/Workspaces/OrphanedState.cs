namespace Provisioning.Coordinator.Workspaces;

/// <summary>A state kept because it arrived after its job ended and a newer build existed (see <see cref="WorkspaceStates"/>).</summary>
public sealed record OrphanedState(
    Guid Id, Guid WorkspaceId, Guid JobId, int BuildNumber, int Size, string Reason, DateTime CreatedAt, DateTime? RestoredAt, int? RestoredBuildNumber);
