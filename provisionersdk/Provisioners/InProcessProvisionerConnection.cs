using Microsoft.Extensions.Logging;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// Runs an <see cref="IProvisioner"/> in the daemon's own process: each session is a
/// <see cref="ProvisionerSessionHost"/> run fed through channels, with no serialisation.
/// </summary>
public sealed class InProcessProvisionerConnection : IProvisionerConnection
{
    private readonly ProvisionerSessionHost _host;

    /// <summary>Creates a connection to <paramref name="provisioner"/>.</summary>
    /// <param name="provisioner">The provisioner every session runs.</param>
    /// <param name="options">Session settings; defaults when null.</param>
    /// <param name="logger">Receives the host's protocol errors; none when null.</param>
    public InProcessProvisionerConnection(IProvisioner provisioner, ProvisionerSessionHostOptions? options = null, ILogger<ProvisionerSessionHost>? logger = null)
    {
        _host = new ProvisionerSessionHost(provisioner, options, logger);
    }

    /// <inheritdoc />
    public Task<IProvisionerSessionClient> OpenSessionAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IProvisionerSessionClient>(new InProcessSessionClient(_host));
    }
}
