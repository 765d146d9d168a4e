namespace Provisioning.Coordinator.Daemons;

/// <summary>Who a daemon authenticated as: a provisioner key (with its tags), or the pre-shared key (KeyId and KeyTags null).</summary>
internal sealed record DaemonCredential(Guid? KeyId, IReadOnlyDictionary<string, string>? KeyTags);
