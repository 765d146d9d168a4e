using Microsoft.Extensions.Logging;

using Provisioning.Sdk.Provisioners;
using Provisioning.Terraform;
using Provisioning.Terraform.Binaries;

namespace Provisioning.Daemon;

/// <summary>The Terraform provisioner hosted in the daemon's process (the default).</summary>
public sealed class TerraformDaemonProvisioner : IDaemonProvisioner
{
    private readonly TerraformProvisioner _provisioner;
    private readonly TerraformBinaryResolver _resolver;
    private readonly ILoggerFactory _loggerFactory;

    public TerraformDaemonProvisioner(TerraformProvisioner provisioner, TerraformBinaryResolver resolver, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(provisioner);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _provisioner = provisioner;
        _resolver = resolver;
        _loggerFactory = loggerFactory;
    }

    public string Type => "terraform";

    /// <summary>Builds the provisioner from options, for callers without dependency injection.</summary>
    public static TerraformDaemonProvisioner Create(TerraformOptions options, ILoggerFactory loggerFactory, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var installer = new TerraformInstaller(options, httpClient ?? new HttpClient(), loggerFactory.CreateLogger<TerraformInstaller>());
        var resolver = new TerraformBinaryResolver(options, installer, loggerFactory.CreateLogger<TerraformBinaryResolver>());
        var provisioner = new TerraformProvisioner(options, resolver, loggerFactory.CreateLogger<TerraformProvisioner>());
        return new TerraformDaemonProvisioner(provisioner, resolver, loggerFactory);
    }

    public async Task<string> CheckAsync(CancellationToken cancellationToken = default)
    {
        var binary = await _resolver.ResolveAsync(cancellationToken).ConfigureAwait(false);
        // A required sandbox that does not work stops the daemon here, before it takes a job it would run unsandboxed.
        // Said at every start, none included: an operator sees which isolation is in effect without reading the flags.
        var sandbox = await _provisioner.CheckSandboxAsync(cancellationToken).ConfigureAwait(false);
        return $"{binary}; isolation {sandbox.InEffect} ({sandbox.Mode.ToString().ToLowerInvariant()} asked): {sandbox.Description}";
    }

    public IProvisionerConnection Connect(string workDirectory) =>
        new InProcessProvisionerConnection(
            _provisioner,
            new ProvisionerSessionHostOptions { WorkDirectoryRoot = workDirectory },
            _loggerFactory.CreateLogger<ProvisionerSessionHost>());
}
