using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using Provisioning.Sdk.Provisioners;

namespace Provisioning.Terraform.Tests;

public sealed class TerraformServiceCollectionExtensionsTests
{
    [Fact]
    public void AddTerraformProvisioner_Registrations_BuildAProvisionerFromTheOptions()
    {
        var services = new ServiceCollection();

        services.AddTerraformProvisioner(options => options.InterruptGracePeriod = TimeSpan.FromSeconds(3));

        Assert.Contains(services, d => d.ServiceType == typeof(IValidateOptions<TerraformOptions>) && d.ImplementationType == typeof(TerraformOptionsValidator));
        var provider = new DescriptorProvider(services, new TerraformOptions { InterruptGracePeriod = TimeSpan.FromSeconds(3) });
        Assert.IsType<TerraformProvisioner>(provider.GetService(typeof(IProvisioner)));
        var configure = Assert.Single(services, d => d.ServiceType == typeof(IConfigureOptions<TerraformOptions>)).ImplementationInstance as IConfigureOptions<TerraformOptions>;
        var configured = new TerraformOptions();
        configure!.Configure(configured);
        Assert.Equal(TimeSpan.FromSeconds(3), configured.InterruptGracePeriod);
    }

    /// <summary>Just enough of a container to run the registered factories (the test project has no DI implementation).</summary>
    private sealed class DescriptorProvider(IServiceCollection services, TerraformOptions options) : IServiceProvider
    {
        public object? GetService(Type serviceType)
        {
            if (serviceType == typeof(IOptions<TerraformOptions>))
            {
                return Options.Create(options);
            }

            if (serviceType.IsGenericType && serviceType.GetGenericTypeDefinition() == typeof(ILogger<>))
            {
                return Activator.CreateInstance(typeof(NullLogger<>).MakeGenericType(serviceType.GenericTypeArguments));
            }

            var descriptor = services.LastOrDefault(d => d.ServiceType == serviceType);
            return descriptor?.ImplementationFactory?.Invoke(this);
        }
    }
}
