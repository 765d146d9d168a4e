namespace Provisioning.FaultInjection.Faults;

/// <summary>The faults a round can inject (one per round).</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL the daemon running the round's job, then start it again (same name, key and cache directory), as a supervisor would.</summary>
    DaemonKill,

    /// <summary>SIGSTOP the daemon running the round's job until the coordinator gave up on its job (or well past the hang timeout), then SIGCONT it.</summary>
    DaemonStop,

    /// <summary>SIGKILL the coordinator (`provisioning server`) and start it again.</summary>
    CoordinatorKill,

    /// <summary>`pg_ctl restart -m fast` the coordinator's PostgreSQL.</summary>
    PostgresRestart,

    /// <summary>`provisioning provisioner keys delete` the key of the daemon running the round's job, then start a new daemon with a new key.</summary>
    KeyRevoke,
}
