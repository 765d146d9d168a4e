using Hangfire;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// The method every provisioner job's Hangfire job names. No Hangfire server processes the queues these
/// jobs sit in: daemons take them over gRPC through <see cref="JobAcquirer"/>, so this method only gives
/// the Hangfire job a type and carries the ledger id in its arguments.
/// </summary>
public sealed class ProvisionerJobMarker
{
    [AutomaticRetry(Attempts = 0)]
    public void Run(Guid provisionerJobId) =>
        throw new InvalidOperationException(
            $"Provisioner job {provisionerJobId} reached a Hangfire worker. Provisioner queues must not be served by a Hangfire server; daemons acquire these jobs over gRPC.");
}
