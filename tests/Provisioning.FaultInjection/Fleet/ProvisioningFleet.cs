using System.Globalization;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// The fleet under test, all real processes on 127.0.0.1: the run's own PostgreSQL cluster, one `provisioning server`
/// (no built-in daemon, a short --job-hang-timeout, --postgres-url to that cluster) and external
/// `provisioning provisioner start` daemons, each with its own key, name and cache directory. It starts them,
/// restarts what a fault took down (<see cref="HealAsync"/>), and on dispose (or <see cref="Abort"/>, from an exit
/// handler) leaves nothing running: the processes it started, the ones they left behind under the run's root, and
/// the cluster.
/// </summary>
internal sealed class ProvisioningFleet : IFaultFleet, IAsyncDisposable
{
    public const string TemplateName = "faults";

    private readonly FaultRunOptions _options;
    private readonly RunLog _log;
    private readonly List<DaemonProcess> _daemons = [];
    private readonly List<DaemonProcess> _retired = [];
    private readonly CoordinatorProcess _coordinator;
    private int _daemonCount;
    private int _disposed;

    public ProvisioningFleet(FaultRunOptions options, RunDirectory root, RunLog log)
    {
        _options = options;
        _log = log;
        Root = root;
        Postgres = new PostgresCluster(root.PostgresData, CoordinatorProcess.FreePort());
        _coordinator = new CoordinatorProcess(options.CliPath, root.Path, root.Logs, options.HangTimeout, () => Postgres.Url);
    }

    public RunDirectory Root { get; }

    public PostgresCluster Postgres { get; }

    public Uri Url => _coordinator.Url;

    /// <summary>Where the template's workspaces keep their markers: {MarkersRoot}/{workspace}/markers.</summary>
    public string MarkersRoot => Path.Combine(Root.Path, "workspaces");

    public ChildProcess? Server => _coordinator.Server;

    public CoordinatorApi Api => _coordinator.Api;

    /// <summary>The daemons of the healthy fleet (a daemon whose key was revoked leaves it when replaced).</summary>
    public IReadOnlyList<DaemonProcess> Daemons => _daemons;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _log.Write($"fleet: PostgreSQL on 127.0.0.1:{Postgres.Port}, coordinator on {Url} (gRPC :{_coordinator.GrpcPort}), root {Root.Path}");
        await Postgres.InitialiseAndStartAsync(cancellationToken).ConfigureAwait(false);
        await _coordinator.StartAndSignInAsync(cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < _options.Daemons; i++)
        {
            await AddDaemonAsync(cancellationToken).ConfigureAwait(false);
        }

        await _coordinator.PushTemplateAsync(TemplateName, _options.TemplateDirectory, MarkersRoot, _options.SleepSeconds, cancellationToken).ConfigureAwait(false);
        _log.Write($"fleet: ready with daemons {string.Join(", ", _daemons)}; template '{TemplateName}' pushed");
    }

    /// <summary>Runs the CLI as the admin (bounded); never throws for a non-zero exit.</summary>
    public Task<CommandResult> RunCliAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        _coordinator.RunCliAsync(arguments, cancellationToken);

    public void StartServer() => _coordinator.Start();

    /// <summary>Waits (bounded) until the coordinator answers /readyz; fails when it exited or never got ready.</summary>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => _coordinator.WaitUntilReadyAsync(cancellationToken);

    /// <summary>Creates a key and starts a new daemon with it; returns once the coordinator lists the daemon (bounded).</summary>
    public async Task<DaemonProcess> AddDaemonAsync(CancellationToken cancellationToken)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"fault-d{++_daemonCount}");
        var key = await _coordinator.CreateKeyAsync(name, cancellationToken).ConfigureAwait(false);
        var daemon = new DaemonProcess(name, name, key, Path.Combine(Root.Path, "daemons", name));
        StartDaemon(daemon);
        _daemons.Add(daemon);
        await _coordinator.WaitUntilRegisteredAsync(name, () => daemon.IsRunning, Path.Combine(Root.Logs, name + ".log"), cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    /// <summary>Starts (or restarts) the daemon's process with its name, key and cache directory.</summary>
    public void StartDaemon(DaemonProcess daemon)
    {
        daemon.Process?.Dispose();
        daemon.Stopped = false;
        daemon.Process = ChildProcess.Start(
            _options.CliPath,
            ["provisioner", "start", "--url", Url.ToString(), "--name", daemon.Name, "--slots", "1", "--cache-dir", daemon.CacheDirectory],
            daemon.Directory,
            new Dictionary<string, string?>
            {
                ["PROVISIONING_PROVISIONER_KEY"] = daemon.Key,
                ["PROVISIONING_HOME"] = daemon.Directory,
                ["PROVISIONING_URL"] = null,
                ["PROVISIONING_SESSION_TOKEN"] = null,
            },
            Path.Combine(Root.Logs, daemon.Name + ".log"));
    }

    /// <summary>The fleet's daemon that the coordinator knows as <paramref name="workerId"/>, if any.</summary>
    public async Task<DaemonProcess?> FindDaemonAsync(Guid workerId, CancellationToken cancellationToken)
    {
        var listed = await Api.ListDaemonsAsync(cancellationToken).ConfigureAwait(false);
        var name = listed.FirstOrDefault(daemon => daemon.Id == workerId)?.Name;
        return _daemons.Concat(_retired).FirstOrDefault(daemon => daemon.Name == name);
    }

    /// <summary>Takes a daemon out of the fleet (its key was revoked): SIGTERM, then SIGKILL after a bounded drain.</summary>
    public async Task<int?> RetireDaemonAsync(DaemonProcess daemon, TimeSpan drain)
    {
        _daemons.Remove(daemon);
        _retired.Add(daemon);
        daemon.Stopped = false;
        return daemon.Process is { } process ? await process.StopAsync(Signals.Term, drain).ConfigureAwait(false) : null;
    }

    /// <summary>
    /// Brings the fleet back to health after a fault: PostgreSQL running, the coordinator running and ready, every
    /// daemon continued and running. Returns what it had to repair that the fault itself did not announce (a process
    /// that exited on its own is worth printing).
    /// </summary>
    public async Task<IReadOnlyList<string>> HealAsync(CancellationToken cancellationToken)
    {
        var repairs = new List<string>();
        if (!await Postgres.IsRunningAsync(cancellationToken).ConfigureAwait(false))
        {
            repairs.Add("PostgreSQL was not running: started it");
            await Postgres.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Server is not { HasExited: false })
        {
            repairs.Add($"the coordinator had exited (code {Server?.ExitCode}): restarted it");
            StartServer();
        }

        await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        foreach (var daemon in _daemons)
        {
            if (daemon.Stopped)
            {
                daemon.Process?.Signal(Signals.Continue);
                daemon.Stopped = false;
            }

            if (!daemon.IsRunning)
            {
                repairs.Add($"daemon {daemon.Name} had exited (code {daemon.Process?.ExitCode}): restarted it");
                StartDaemon(daemon);
            }
        }

        return repairs;
    }

    /// <summary>Last resort from an exit handler (Ctrl+C, SIGTERM of the test host): kill everything now, synchronously.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var process in _daemons.Concat(_retired).Select(daemon => daemon.Process))
        {
            process?.Dispose();
        }

        _coordinator.Dispose();
        RunDirectory.RemoveAsync(Root.Path).GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // No graceful shutdown: the run is over and its database is thrown away. What matters is that nothing survives.
        foreach (var process in _daemons.Concat(_retired).Select(daemon => daemon.Process))
        {
            process?.Dispose();
        }

        _coordinator.Dispose();
        await PostgresCluster.StopAsync(Postgres.DataDirectory).ConfigureAwait(false);
        var leftovers = ProcessSweeper.KillUnder(Root.Path);
        if (leftovers > 0)
        {
            _log.Write($"fleet: killed {leftovers} leftover process(es) under {Root.Path} (Terraform or template scripts of killed daemons)");
        }

        if (_options.Keep)
        {
            Root.MarkKept();
            _log.Write($"fleet: kept {Root.Path} (--keep): logs in {Root.Logs}");
        }
        else
        {
            await RunDirectory.RemoveAsync(Root.Path).ConfigureAwait(false);
        }
    }
}
