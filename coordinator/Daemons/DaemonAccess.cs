namespace Provisioning.Coordinator.Daemons;

/// <summary>What a daemon's call does, for <see cref="DaemonAuthenticator.RequireDaemonAsync"/>.</summary>
internal enum DaemonAccess
{
    /// <summary>Takes or continues work (AcquireJob): refused once the daemon's key is revoked.</summary>
    Work,

    /// <summary>Reports a job it holds (UpdateJob, CompleteJob, FailJob, UploadFile, DownloadFile): allowed after a revocation, so that no state is lost.</summary>
    Report,
}
