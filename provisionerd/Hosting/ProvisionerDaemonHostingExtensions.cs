using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

using Provisioning.Terraform;
using Provisioning.Terraform.Binaries;

namespace Provisioning.Daemon.Hosting;

/// <summary>Composition of a provisioner daemon into a host, so <c>provisioning provisioner start</c> stays thin.</summary>
public static class ProvisionerDaemonHostingExtensions
{
    /// <summary>
    /// Adds a provisioner daemon running the in-process Terraform provisioner (unless an
    /// <see cref="IDaemonProvisioner"/> is registered already). Options bind from the
    /// <c>ProvisionerDaemon</c> section, then <paramref name="configure"/> (command-line flags), and
    /// are validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddProvisionerDaemon(this IHostApplicationBuilder builder, Action<ProvisionerDaemonOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var preview = new ProvisionerDaemonOptions();
        builder.Configuration.GetSection(ProvisionerDaemonOptions.SectionName).Bind(preview);
        configure?.Invoke(preview);
        if (preview.LogJson)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json => json.IncludeScopes = true);
        }
        else
        {
            // The host's own console logger stays; only its scopes (job id, daemon, slot) are turned on.
            builder.Services.Configure<SimpleConsoleFormatterOptions>(console => console.IncludeScopes = true);
        }

        var options = builder.Services.AddOptions<ProvisionerDaemonOptions>().BindConfiguration(ProvisionerDaemonOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProvisionerDaemonOptions>, ProvisionerDaemonOptionsValidator>());

        // The Terraform provisioner's own registration; its options take the daemon's cache and --terraform-path.
        builder.Services.AddTerraformProvisioner();
        builder.Services.AddOptions<TerraformOptions>()
            .BindConfiguration(TerraformOptions.SectionName)
            .Configure<IOptions<ProvisionerDaemonOptions>>((terraform, daemon) =>
            {
                terraform.TerraformPath ??= daemon.Value.TerraformPath;
                terraform.InstallVersion ??= daemon.Value.TerraformVersion;
                terraform.SigningKeyFile ??= daemon.Value.TerraformSigningKeyFile;
                terraform.ProviderMirrorDirectory ??= daemon.Value.ProviderMirrorDirectory;
                terraform.CliConfigFile ??= daemon.Value.TerraformCliConfigFile;
                if (daemon.Value.TerraformMirror is { } mirror)
                {
                    terraform.ReleaseBaseUrl = mirror;
                }

                terraform.CacheDirectory = daemon.Value.CacheDirectory;
                terraform.Sandbox = daemon.Value.Sandbox;
                terraform.BubblewrapPath ??= daemon.Value.BubblewrapPath;
                terraform.JobImage = daemon.Value.JobImage;
                terraform.JobMemoryBytes ??= daemon.Value.JobMemoryBytes;
                terraform.JobCpus ??= daemon.Value.JobCpus;
            });
        builder.Services.TryAddSingleton<IDaemonProvisioner>(services => new TerraformDaemonProvisioner(
            services.GetRequiredService<TerraformProvisioner>(),
            services.GetRequiredService<TerraformBinaryResolver>(),
            services.GetRequiredService<ILoggerFactory>()));
        builder.Services.TryAddSingleton(services => new SupervisedProvisioners(services.GetRequiredService<ILoggerFactory>()));
        builder.Services.TryAddSingleton(services => new ProvisionerDaemon(
            services.GetRequiredService<IOptions<ProvisionerDaemonOptions>>().Value,
            Provisioners(services),
            services.GetRequiredService<ILogger<ProvisionerDaemon>>(),
            services.GetService<TimeProvider>()));
        builder.Services.AddHostedService<ProvisionerDaemonHostedService>();

        // The host's default shutdown timeout (30 s) would cut a drain short: give the daemon its drain timeout,
        // then its shutdown timeout for canceled jobs' reports, on top of what the host's other services need.
        var stopTimeout = preview.StopTimeout;
        builder.Services.PostConfigure<HostOptions>(host => host.ShutdownTimeout += stopTimeout);
        return builder;
    }

    /// <summary>
    /// The registered provisioner, then one supervised binary per <c>--provisioner NAME=PATH</c> (a binary of the same
    /// type replaces it). Each binary is a singleton the container disposes, which stops its process on shutdown.
    /// </summary>
    private static List<IDaemonProvisioner> Provisioners(IServiceProvider services)
    {
        var binaries = services.GetRequiredService<IOptions<ProvisionerDaemonOptions>>().Value.ProvisionerBinaries;
        var provisioners = new List<IDaemonProvisioner>();
        var registered = services.GetRequiredService<IDaemonProvisioner>();
        if (!binaries.ContainsKey(registered.Type))
        {
            provisioners.Add(registered);
        }

        provisioners.AddRange(services.GetRequiredService<SupervisedProvisioners>().Start(binaries));
        return provisioners;
    }
}
