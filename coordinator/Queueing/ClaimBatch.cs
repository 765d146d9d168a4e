using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// What one claim statement did: <see cref="Picked"/> queue entries taken (claimable or not) and the jobs
/// claimed, each with the 0-based index of the slot it was claimed for.
/// </summary>
internal sealed record ClaimBatch(int Picked, IReadOnlyList<(int Slot, ProvisionerJob Job)> Claimed);
