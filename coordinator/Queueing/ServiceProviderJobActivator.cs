using Hangfire;

using Microsoft.Extensions.DependencyInjection;

namespace Provisioning.Coordinator.Queueing;

/// <summary>Creates Hangfire job classes (the maintenance job) from the host's services.</summary>
internal sealed class ServiceProviderJobActivator(IServiceProvider services) : JobActivator
{
    public override object ActivateJob(Type jobType) => ActivatorUtilities.GetServiceOrCreateInstance(services, jobType);
}
