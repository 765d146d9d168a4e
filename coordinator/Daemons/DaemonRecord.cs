namespace Provisioning.Coordinator.Daemons;

/// <summary>A row of provisioner_daemons as the service needs it.</summary>
internal sealed class DaemonRecord
{
    public Guid Id { get; set; }

    public string Name { get; set; } = string.Empty;

    public Guid? KeyId { get; set; }

    public string Tags { get; set; } = "{}";

    public string[] Provisioners { get; set; } = [];
}
