namespace Provisioning.Daemon.Jobs;

/// <summary>What the coordinator's answer to a terminal report means for the state the daemon holds.</summary>
internal enum ReportAnswerKind
{
    /// <summary>The coordinator has the report (and its state): the daemon may delete its copy.</summary>
    Acknowledged,

    /// <summary>
    /// The coordinator said the report can never be accepted (unknown job, another daemon's job, invalid): the
    /// daemon keeps the state under <c>unaccepted/</c> for an operator, and stops sending it.
    /// </summary>
    Refused,

    /// <summary>No definitive answer yet (the coordinator did not recognise this daemon, or the daemon is stopping): the report stays spooled and is sent again at the next start.</summary>
    Deferred,
}
