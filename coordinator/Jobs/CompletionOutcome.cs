namespace Provisioning.Coordinator.Jobs;

/// <summary>What a terminal report (complete or fail) did; a repeated or late report is acknowledged, not an error.</summary>
public enum CompletionOutcome
{
    /// <summary>This call ended the job.</summary>
    Completed,

    /// <summary>A report of the holding daemon had already ended the job (a retried report); nothing changed in the ledger.</summary>
    AlreadyCompleted,

    /// <summary>
    /// The job had ended without any report of its daemon (reaped as hung, canceled, its key revoked): this report is
    /// late. The ledger keeps the job as it ended, but what the report carries must not be thrown away (invariant 3).
    /// </summary>
    EndedWithoutReport,
}
