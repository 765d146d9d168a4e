namespace Provisioning.Coordinator.Api.Provisioners;

// The JSON shapes of the provisioners area (snake_case on the wire); kept together because they only make sense as a set.

internal sealed record ProvisionerDaemonResponse(
    Guid Id, string Name, IReadOnlyDictionary<string, string> Tags, IReadOnlyList<string> Provisioners, string Version, int Slots,
    string Status, IReadOnlyList<Guid> CurrentJobs, Guid? CurrentJob, string? KeyName, DateTime CreatedAt, DateTime LastSeenAt);

internal sealed record CreateProvisionerKeyRequest(string? Name, IReadOnlyDictionary<string, string>? Tags);

internal sealed record ProvisionerKeyResponse(Guid Id, string Name, IReadOnlyDictionary<string, string> Tags, DateTime CreatedAt);

internal sealed record CreatedProvisionerKeyResponse(ProvisionerKeyResponse ProvisionerKey, string Key);

/// <summary>One minute of the fleet's last hour: jobs waiting at its end (<c>depth</c>) and jobs that ended in it (<c>completed</c>).</summary>
internal sealed record QueueHistoryPoint(DateTime Minute, int Depth, int Completed);
