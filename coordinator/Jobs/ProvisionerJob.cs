namespace Provisioning.Coordinator.Jobs;

/// <summary>A row of the job ledger (provisioner_jobs).</summary>
public sealed record ProvisionerJob(
    Guid Id,
    ProvisionerJobType Type,
    string Provisioner,
    IReadOnlyDictionary<string, string> Tags,
    string Queue,
    string Input,
    string? FileHash,
    Guid? InitiatorId,
    Guid? WorkerId,
    string? HangfireJobId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CanceledAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    string? ErrorCode,
    long LogsLength,
    bool LogsOverflowed,
    ProvisionerJobStatus Status);
