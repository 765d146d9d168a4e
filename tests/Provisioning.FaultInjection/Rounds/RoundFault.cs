using Provisioning.FaultInjection.Faults;

namespace Provisioning.FaultInjection.Rounds;

/// <summary>
/// Hits the fleet once during a round of <paramref name="builds"/> builds driven by <paramref name="driver"/>: it
/// completes <paramref name="hitting"/> the moment it hits (the round then waits for its end before the next check and
/// build), and gives up aiming once <paramref name="buildsDone"/> completed. Returns what it did.
/// </summary>
internal delegate Task<FaultRecord> RoundFault(WorkspaceDriver driver, int builds, Task buildsDone, TaskCompletionSource hitting, CancellationToken cancellationToken);
