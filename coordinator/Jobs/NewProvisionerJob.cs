namespace Provisioning.Coordinator.Jobs;

/// <summary>A job to insert into the ledger. <see cref="Input"/> is a JSON object the daemon-facing service turns into the AcquiredJob.</summary>
public sealed record NewProvisionerJob(
    ProvisionerJobType Type,
    string Provisioner,
    IReadOnlyDictionary<string, string> Tags,
    string Input = "{}",
    string? FileHash = null,
    Guid? InitiatorId = null)
{
    /// <summary>The id to give the job; a new one when not set (callers that link other rows to the job set it first).</summary>
    public Guid Id { get; init; } = Guid.CreateVersion7();
}
