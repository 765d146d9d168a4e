namespace Provisioning.Coordinator.Api.Jobs;

/// <summary>A job as the API shows it: the ledger's view plus, while pending, where it stands in its queue and why it waits.</summary>
internal sealed record JobResponse(
    Guid Id,
    string Type,
    string Status,
    string Provisioner,
    IReadOnlyDictionary<string, string> Tags,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? CanceledAt,
    DateTime? CompletedAt,
    string? Error,
    string? ErrorCode,
    Guid? WorkerId,
    bool LogsOverflowed,
    int? QueuePosition,
    int? QueueSize,
    string? WaitingReason);
