using Hangfire;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// Registers the maintenance recurring job and runs a Hangfire server that serves only
/// <see cref="CoordinatorMaintenance.QueueName"/>; provisioner queues are left to the <see cref="JobAcquirer"/>.
/// </summary>
// The storage is resolved in StartAsync, not injected: the host constructs every hosted service before the
// database (CoordinatorDatabase.StartingAsync) has started, and the storage needs its connection string.
internal sealed class CoordinatorMaintenanceService(IServiceProvider services) : IHostedService, IDisposable
{
    private BackgroundJobServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var storage = services.GetRequiredService<JobStorage>();
        new RecurringJobManager(storage).AddOrUpdate<CoordinatorMaintenance>(
            CoordinatorMaintenance.RecurringJobId,
            CoordinatorMaintenance.QueueName,
            maintenance => maintenance.RunAsync(CancellationToken.None),
            Cron.Minutely());
        _server = new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                Queues = [CoordinatorMaintenance.QueueName],
                WorkerCount = 1,
                ServerName = $"coordinator:{Environment.MachineName}:{Environment.ProcessId}",
                Activator = new ServiceProviderJobActivator(services),
            },
            storage);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            server.SendStop();
            try
            {
                await server.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The host's shutdown timeout ran out; Dispose aborts what is left of the maintenance run.
            }
        }
    }

    public void Dispose() => _server?.Dispose();
}
