namespace Provisioning.Coordinator.Daemons;

/// <summary>A row of provisioner_daemons as the service needs it.</summary>
internal sealed class DaemonRecord
{
    public Guid Id { get; set; }

    public string Name { get; set; } = string.Empty;

    public Guid? KeyId { get; set; }

    public string Tags { get; set; } = "{}";

    public string[] Provisioners { get; set; } = [];

    public int Slots { get; set; } = 1;

    /// <summary>SHA-256 of the secret of the daemon's current session (null before its first Register under sessions).</summary>
    public byte[]? SessionHash { get; set; }

    /// <summary>When the daemon's provisioner key was revoked: it may report the jobs it holds, nothing else.</summary>
    public DateTime? RevokedAt { get; set; }

    /// <summary>For a daemon admitted by the pre-shared key: that key's SHA-256 (its session ends when the coordinator's key changes).</summary>
    public byte[]? PskFingerprint { get; set; }

    public bool IsRevoked => RevokedAt is not null;
}
