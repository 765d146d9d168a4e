using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Sdk.Provisioners;

namespace Provisioning.Daemon;

/// <summary>Any <see cref="IProvisioner"/> hosted in the daemon's process, e.g. a custom provisioner built on the SDK.</summary>
public sealed class InProcessDaemonProvisioner : IDaemonProvisioner
{
    private readonly IProvisioner _provisioner;
    private readonly Func<CancellationToken, Task<string>> _check;
    private readonly ILoggerFactory _loggerFactory;

    /// <param name="type">The provisioner type announced to the coordinator.</param>
    /// <param name="provisioner">The provisioner every job's session runs.</param>
    /// <param name="check">Checks the provisioner can run before the daemon registers; none when null.</param>
    /// <param name="loggerFactory">For the session host's protocol errors; none when null.</param>
    public InProcessDaemonProvisioner(string type, IProvisioner provisioner, Func<CancellationToken, Task<string>>? check = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(provisioner);
        Type = type;
        _provisioner = provisioner;
        _check = check ?? (_ => Task.FromResult($"{type} (in process)"));
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    public string Type { get; }

    public Task<string> CheckAsync(CancellationToken cancellationToken = default) => _check(cancellationToken);

    public IProvisionerConnection Connect(string workDirectory) =>
        new InProcessProvisionerConnection(
            _provisioner,
            new ProvisionerSessionHostOptions { WorkDirectoryRoot = workDirectory },
            _loggerFactory.CreateLogger<ProvisionerSessionHost>());
}
