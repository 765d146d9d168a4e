namespace Provisioning.Coordinator.Daemons;

/// <summary>The call metadata (gRPC headers) of the daemon protocol.</summary>
public static class ProvisionerDaemonMetadata
{
    /// <summary>A provisioner key (<c>{key id}.{secret}</c>); the daemon's tags become the key's tags.</summary>
    public const string ProvisionerKey = "provisioning-provisioner-key";

    /// <summary>The coordinator's pre-shared key; the daemon declares its own tags.</summary>
    public const string ProvisionerPsk = "provisioning-provisioner-psk";

    /// <summary>
    /// The daemon id that Register returned; required on every call after Register, because job calls
    /// carry only a job id and are checked against the job's owner.
    /// </summary>
    public const string DaemonId = "provisioning-daemon-id";
}
