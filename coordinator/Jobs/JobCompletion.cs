namespace Provisioning.Coordinator.Jobs;

/// <summary>The result of a terminal report: what it did, and the job as it is now.</summary>
public sealed record JobCompletion(CompletionOutcome Outcome, ProvisionerJob Job);
