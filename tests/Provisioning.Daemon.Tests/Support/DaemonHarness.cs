using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Terraform;
using Provisioning.Testing;

namespace Provisioning.Daemon.Tests.Support;

/// <summary>
/// A real <see cref="ProvisionerDaemon"/> with the real in-process Terraform provisioner, running in
/// the background against a coordinator address, with short intervals so tests are quick.
/// </summary>
internal sealed class DaemonHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    private DaemonHarness(ProvisionerDaemon daemon, ProvisionerDaemonOptions options)
    {
        Daemon = daemon;
        Options = options;
        Run = Task.Run(() => daemon.ExecuteAsync(_stop.Token));
    }

    public ProvisionerDaemon Daemon { get; }

    public ProvisionerDaemonOptions Options { get; }

    /// <summary>Leave the cache directory (work directories, spooled reports) on disk at dispose, for a daemon started after this one.</summary>
    public bool KeepCache { get; set; }

    /// <summary>The daemon's ExecuteAsync.</summary>
    public Task Run { get; }

    /// <param name="configureTerraform">Changes to the Terraform provisioner's options (e.g. a provider mirror), after the defaults.</param>
    public static DaemonHarness Start(
        Uri coordinator,
        string terraformCache,
        Action<ProvisionerDaemonOptions>? configure = null,
        IDaemonProvisioner? provisioner = null,
        Action<TerraformOptions>? configureTerraform = null)
    {
        var options = new ProvisionerDaemonOptions
        {
            CoordinatorUrl = coordinator,
            PreSharedKey = TestCoordinator.Psk,
            Name = "test-daemon-" + Guid.NewGuid().ToString("N")[..8],
            CacheDirectory = Directory.CreateTempSubdirectory("provisioning-daemon-cache-").FullName,
            HeartbeatInterval = TimeSpan.FromMilliseconds(300),
            LogFlushInterval = TimeSpan.FromMilliseconds(50),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            ForceCancelTimeout = TimeSpan.FromSeconds(30),
            ShutdownTimeout = TimeSpan.FromSeconds(60),
            Sandbox = Enum.Parse<Provisioning.Terraform.Sandbox.TerraformSandboxMode>(TerraformRequirement.SandboxMode, ignoreCase: true),
        };
        configure?.Invoke(options);
        var terraform = new TerraformOptions
        {
            TerraformPath = TerraformRequirement.Require(),
            CacheDirectory = terraformCache,
            InterruptGracePeriod = TimeSpan.FromSeconds(10),
            Sandbox = options.Sandbox,
        };
        configureTerraform?.Invoke(terraform);
        provisioner ??= TerraformDaemonProvisioner.Create(terraform, NullLoggerFactory.Instance);
        var daemon = new ProvisionerDaemon(options, provisioner, new TestOutputLogger<ProvisionerDaemon>());
        return new DaemonHarness(daemon, options);
    }

    /// <summary>Job work directories left under the daemon's cache.</summary>
    public IReadOnlyList<string> LeftoverWorkDirectories() =>
        Directory.Exists(Options.JobsDirectory) ? [.. Directory.EnumerateDirectories(Options.JobsDirectory)] : [];

    /// <summary>Reports (with their states) the daemon still holds because the coordinator has not acknowledged them.</summary>
    public IReadOnlyList<string> SpooledReports() =>
        Directory.Exists(Options.ReportsDirectory) ? [.. Directory.EnumerateDirectories(Options.ReportsDirectory)] : [];

    /// <summary>
    /// Waits (bounded) until the daemon removed every work directory and spooled report: it does so only after
    /// the coordinator acknowledged the job's report, a moment after the coordinator recorded it.
    /// </summary>
    public Task AssertCleanedUpAsync(CancellationToken cancellationToken) =>
        Eventually.HoldsAsync(
            () => LeftoverWorkDirectories().Count == 0 && SpooledReports().Count == 0,
            $"the daemon removed its work directories ({string.Join(", ", LeftoverWorkDirectories())}) and spooled reports ({string.Join(", ", SpooledReports())})",
            TimeSpan.FromSeconds(10),
            cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is ProvisionerDaemonException or OperationCanceledException or TimeoutException)
        {
            // The test asserted on how the daemon ended already.
        }

        Daemon.Dispose();
        _stop.Dispose();
        if (KeepCache)
        {
            return;
        }

        try
        {
            Directory.Delete(Options.CacheDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
