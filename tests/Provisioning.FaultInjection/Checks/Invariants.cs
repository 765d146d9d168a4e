namespace Provisioning.FaultInjection.Checks;

/// <summary>The names under which violations are printed; each is one of issue 9's item-9 checks (docs/architecture.md's invariants in brackets).</summary>
internal static class Invariants
{
    /// <summary>Every job ended (succeeded, failed or canceled) within the bound [invariant 2].</summary>
    public const string JobEnded = "job-ended";

    /// <summary>A job that ended keeps its outcome: nothing that arrives later (a late report, a retry) ends it again [invariants 2 and 3].</summary>
    public const string JobEndedOnce = "job-ended-once";

    /// <summary>No job ran on two daemons at once: two applies of one workspace never overlap [invariants 1 and 4].</summary>
    public const string OneDaemonAtATime = "one-daemon-at-a-time";

    /// <summary>The workspace's latest state names every resource whose marker exists on disk [invariant 3].</summary>
    public const string StateNamesResources = "state-names-resources";

    /// <summary>A `delete` with a healthy fleet succeeds and leaves no marker behind [invariant 3].</summary>
    public const string DeleteLeavesNothing = "delete-leaves-nothing";

    /// <summary>A daemon whose key was revoked starts no new job a few seconds after the revocation (docs/architecture.md, trust boundaries).</summary>
    public const string RevokedKeyStopsWork = "revoked-key-stops-work";
}
