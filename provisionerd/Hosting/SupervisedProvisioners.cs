using Microsoft.Extensions.Logging;

namespace Provisioning.Daemon.Hosting;

/// <summary>
/// Owns the provisioner binaries a hosted daemon starts (<see cref="ProvisionerDaemonOptions.ProvisionerBinaries"/>): the
/// host disposes it after the daemon stopped, which stops every binary (an interrupt, then a kill).
/// </summary>
internal sealed class SupervisedProvisioners(ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private readonly List<ProcessDaemonProvisioner> _provisioners = [];

    /// <summary>One provisioner per binary; each starts its process when the daemon checks it.</summary>
    public IReadOnlyList<ProcessDaemonProvisioner> Start(IEnumerable<KeyValuePair<string, string>> binaries)
    {
        foreach (var (type, path) in binaries)
        {
            _provisioners.Add(new ProcessDaemonProvisioner(type, path, loggerFactory.CreateLogger("Provisioning.Daemon.Provisioners." + type)));
        }

        return _provisioners;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_provisioners.Select(provisioner => provisioner.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
