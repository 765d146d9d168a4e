namespace Provisioning.Coordinator.Jobs;

/// <summary>A call about a job that the ledger refuses; the gRPC and REST edges map the subclasses to status codes.</summary>
public abstract class ProvisionerJobException : Exception
{
    protected ProvisionerJobException(Guid jobId, string message)
        : base(message)
    {
        JobId = jobId;
    }

    public Guid JobId { get; }
}
