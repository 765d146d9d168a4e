namespace Provisioning.Coordinator.Jobs;

/// <summary>What a terminal report (complete or fail) did; a repeated report is acknowledged, not an error.</summary>
public enum CompletionOutcome
{
    /// <summary>This call ended the job.</summary>
    Completed,

    /// <summary>The job had already ended (a retried report); nothing changed.</summary>
    AlreadyCompleted,
}
