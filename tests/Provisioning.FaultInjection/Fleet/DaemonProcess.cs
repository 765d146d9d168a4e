namespace Provisioning.FaultInjection.Fleet;

/// <summary>One external daemon of the fleet: its name, its own provisioner key and cache directory, and its process while it runs.</summary>
internal sealed class DaemonProcess(string name, string keyName, string key, string directory)
{
    public string Name { get; } = name;

    public string KeyName { get; } = keyName;

    public string Key { get; } = key;

    /// <summary>Its working directory; the cache directory (work directories of its jobs) lies inside.</summary>
    public string Directory { get; } = directory;

    public string CacheDirectory => Path.Combine(Directory, "cache");

    public ChildProcess? Process { get; set; }

    /// <summary>Set while a fault holds it SIGSTOPped.</summary>
    public bool Stopped { get; set; }

    public bool IsRunning => Process is { HasExited: false };

    public override string ToString() => Process is { } process ? $"{Name} (pid {process.Id})" : Name;
}
