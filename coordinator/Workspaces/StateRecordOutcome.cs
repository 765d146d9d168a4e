namespace Provisioning.Coordinator.Workspaces;

/// <summary>What <see cref="WorkspaceStates.RecordReportedAsync"/> did with a reported state.</summary>
public enum StateRecordOutcome
{
    /// <summary>No state to record (none reported, or the job is not a workspace build); the build keeps the state it started with.</summary>
    NoState,

    /// <summary>The report ended the job and its state is the build's state.</summary>
    Recorded,

    /// <summary>The state of this late report was recorded already (a repeated report).</summary>
    AlreadyRecorded,

    /// <summary>The job had ended without a report; its build is the workspace's latest, so the state was recorded on it.</summary>
    LateRecorded,

    /// <summary>The job had ended without a report and a newer build exists: the state was kept as an orphaned state.</summary>
    LateOrphaned,

    /// <summary>The job had ended without a report and the report carried no state.</summary>
    LateNoState,
}
