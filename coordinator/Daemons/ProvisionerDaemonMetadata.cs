namespace Provisioning.Coordinator.Daemons;

/// <summary>The call metadata (gRPC headers) of the daemon protocol.</summary>
public static class ProvisionerDaemonMetadata
{
    /// <summary>A provisioner key (<c>{key id}.{secret}</c>); the daemon's tags become the key's tags.</summary>
    public const string ProvisionerKey = "provisioning-provisioner-key";

    /// <summary>The coordinator's pre-shared key; the daemon declares its own tags.</summary>
    public const string ProvisionerPsk = "provisioning-provisioner-psk";

    /// <summary>
    /// The session token that Register returned (<c>{daemon id}.{secret}</c>); required on every call after
    /// Register. Job calls carry only a job id and are checked against the job's owner, so the owner must be
    /// proven by a secret, not named by a bare id that any other daemon could send.
    /// </summary>
    public const string DaemonSession = "provisioning-daemon-session";
}
