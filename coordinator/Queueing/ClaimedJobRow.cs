using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>A row of the claim statement: how many queue entries it took, and one claimed ledger job (none when <see cref="Pick"/> is null).</summary>
internal sealed class ClaimedJobRow : ProvisionerJobRow
{
    /// <summary>Queue entries taken by the statement, claimable or not.</summary>
    public long Picked { get; set; }

    /// <summary>The 1-based position of the slot (in the order given) that the job was claimed for.</summary>
    public long? Pick { get; set; }
}
