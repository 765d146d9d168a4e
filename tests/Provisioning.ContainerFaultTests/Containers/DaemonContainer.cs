using DotNet.Testcontainers.Containers;

namespace Provisioning.ContainerFaultTests.Containers;

/// <summary>
/// One provisioner daemon as a machine of its own: `provisioning provisioner start` in a container (see
/// <see cref="ContainerFleet.CreateDaemonContainer"/>), with its own name, key and directory. The directory (and in it
/// the cache with the jobs' work directories) is a bind mount at the same path as on the host, so the daemon started
/// again after a kill finds what the killed one left, and the template's records name the same paths everywhere.
/// </summary>
internal sealed class DaemonContainer(string name, string key, string directory)
{
    public string Name { get; } = name;

    public string Key { get; } = key;

    public string Directory { get; } = directory;

    public string CacheDirectory => Path.Combine(Directory, "cache");

    public IContainer Container { get; set; } = null!;

    /// <summary>Set while a fault holds the container paused.</summary>
    public bool Paused { get; set; }

    /// <summary>Set between a fault's <c>docker kill</c> and the container's start.</summary>
    public bool Killed { get; set; }

    public override string ToString() => $"{Name} (container {Container?.Name.TrimStart('/')})";
}
