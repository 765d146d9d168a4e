using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Provisioning.Sdk.Provisioners;
using Provisioning.Terraform.Binaries;

namespace Provisioning.Terraform;

/// <summary>Registers the Terraform provisioner, its binary resolver and installer, with options validated at start.</summary>
public static class TerraformServiceCollectionExtensions
{
    public static IServiceCollection AddTerraformProvisioner(this IServiceCollection services, Action<TerraformOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TerraformOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TerraformOptions>, TerraformOptionsValidator>());
        services.TryAddSingleton(provider => new TerraformInstaller(
            provider.GetRequiredService<IOptions<TerraformOptions>>().Value,
            // Downloads are rare (one per version per host) and long: a dedicated client, no pooling needed.
            new HttpClient { Timeout = TimeSpan.FromMinutes(10) },
            provider.GetRequiredService<ILogger<TerraformInstaller>>()));
        services.TryAddSingleton(provider => new TerraformBinaryResolver(
            provider.GetRequiredService<IOptions<TerraformOptions>>().Value,
            provider.GetRequiredService<TerraformInstaller>(),
            provider.GetRequiredService<ILogger<TerraformBinaryResolver>>()));
        services.TryAddSingleton(provider => new TerraformProvisioner(
            provider.GetRequiredService<IOptions<TerraformOptions>>().Value,
            provider.GetRequiredService<TerraformBinaryResolver>(),
            provider.GetRequiredService<ILogger<TerraformProvisioner>>()));
        services.TryAddSingleton<IProvisioner>(provider => provider.GetRequiredService<TerraformProvisioner>());
        return services;
    }
}
