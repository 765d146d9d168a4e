namespace Provisioning.Coordinator.Jobs;

/// <summary>The answer to a heartbeat: whether a user canceled the job, so the daemon should stop it.</summary>
public sealed record JobHeartbeat(bool Canceled);
