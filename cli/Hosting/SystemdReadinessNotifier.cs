using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Provisioning.Cli.Hosting;

/// <summary>
/// Tells the supervisor on <c>NOTIFY_SOCKET</c> when the host has started and when it stops: what the package's
/// <c>SystemdLifetime</c> does, without replacing the console lifetime (see <see cref="SystemdHostingExtensions"/>).
/// </summary>
internal sealed class SystemdReadinessNotifier(ISystemdNotifier notifier, IHostApplicationLifetime lifetime) : IHostedService, IDisposable
{
    private CancellationTokenRegistration _started;
    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // ApplicationStarted fires after every hosted service started (the coordinator's migrations, Kestrel's listeners):
        // READY=1 then means the REST API answers, which is what `systemctl start` waits for with Type=notify.
        _started = lifetime.ApplicationStarted.Register(() => notifier.Notify(ServiceState.Ready));
        _stopping = lifetime.ApplicationStopping.Register(() => notifier.Notify(ServiceState.Stopping));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
    }
}
