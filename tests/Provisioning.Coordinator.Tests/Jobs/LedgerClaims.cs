using Dapper;

using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Tests.Jobs;

/// <summary>
/// Claims one job for one daemon through the production claim statement (no test-only twin of it): the daemon is
/// registered when it is not, the job is put in its queue when it is not, and one slot of the daemon claims it.
/// The database needs Hangfire's schema (<see cref="MigratedDatabase"/> and QueueHarness install it).
/// </summary>
internal static class LedgerClaims
{
    public static async Task<ProvisionerJob?> ClaimThroughQueueAsync(this ProvisionerJobLedger ledger, ProvisionerJob job, Guid daemonId, CancellationToken cancellationToken)
    {
        await using (var connection = await ledger.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(
                "INSERT INTO provisioner_daemons (id, name, tags, provisioners, slots) VALUES (@Id, @Name, @Tags::jsonb, '{terraform}', 64) ON CONFLICT (id) DO NOTHING",
                new { Id = daemonId, Name = "d-" + daemonId.ToString("N"), Tags = ProvisionerTags.ToJson(job.Tags) });
            var current = await ledger.GetAsync(job.Id, cancellationToken);
            if (current is { HangfireJobId: null })
            {
                await HangfireJobRows.PublishAsync(connection, null, current, cancellationToken);
            }
        }

        var batch = await ledger.ClaimAsync([job.Queue], [new DaemonIdentity(daemonId, "d", ["terraform"], job.Tags)], cancellationToken);
        return batch.Claimed.Select(claimed => claimed.Job).SingleOrDefault(claimed => claimed.Id == job.Id);
    }
}
