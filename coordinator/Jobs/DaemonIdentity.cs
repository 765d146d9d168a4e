namespace Provisioning.Coordinator.Jobs;

/// <summary>A registered daemon as job routing sees it: its id (the jobs' worker_id), name, provisioner types and effective tags.</summary>
public sealed record DaemonIdentity(Guid Id, string Name, IReadOnlyList<string> Provisioners, IReadOnlyDictionary<string, string> Tags)
{
    /// <summary>Whether this daemon may run jobs of <paramref name="queue"/>.</summary>
    public bool CanServe(ProvisionerQueue queue) =>
        Provisioners.Contains(queue.Provisioner, StringComparer.Ordinal) && ProvisionerTags.Matches(queue.Tags, Tags);
}
