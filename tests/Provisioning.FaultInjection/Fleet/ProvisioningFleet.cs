using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// The fleet under test, all real processes on 127.0.0.1: the run's own PostgreSQL cluster, one `provisioning server`
/// (no built-in daemon, a short --job-hang-timeout, --postgres-url to that cluster) and external
/// `provisioning provisioner start` daemons, each with its own key, name and cache directory. It starts them,
/// restarts what a fault took down (<see cref="HealAsync"/>), and on dispose (or <see cref="Abort"/>, from an exit
/// handler) leaves nothing running: the processes it started, the ones they left behind under the run's root, and
/// the cluster.
/// </summary>
internal sealed class ProvisioningFleet : IAsyncDisposable
{
    public const string TemplateName = "faults";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan CliTimeout = TimeSpan.FromMinutes(3);

    private readonly FaultRunOptions _options;
    private readonly RunLog _log;
    private readonly List<DaemonProcess> _daemons = [];
    private readonly List<DaemonProcess> _retired = [];
    private readonly int _httpPort = FreePort();
    private readonly int _grpcPort = FreePort();
    private int _daemonCount;
    private int _disposed;

    public ProvisioningFleet(FaultRunOptions options, RunDirectory root, RunLog log)
    {
        _options = options;
        _log = log;
        Root = root;
        Postgres = new PostgresCluster(root.PostgresData, FreePort());
        Url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_httpPort}"));
    }

    public RunDirectory Root { get; }

    public PostgresCluster Postgres { get; }

    public Uri Url { get; }

    /// <summary>Where the template's workspaces keep their markers: {MarkersRoot}/{workspace}/markers.</summary>
    public string MarkersRoot => Path.Combine(Root.Path, "workspaces");

    public ChildProcess? Server { get; private set; }

    public CoordinatorApi Api { get; private set; } = null!;

    /// <summary>The daemons of the healthy fleet (a daemon whose key was revoked leaves it when replaced).</summary>
    public IReadOnlyList<DaemonProcess> Daemons => _daemons;

    private string ServerHome => Path.Combine(Root.Path, "server");

    private string Token { get; set; } = string.Empty;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _log.Write($"fleet: PostgreSQL on 127.0.0.1:{Postgres.Port}, coordinator on {Url} (gRPC :{_grpcPort}), root {Root.Path}");
        await Postgres.InitialiseAndStartAsync(cancellationToken).ConfigureAwait(false);
        StartServer();
        await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        Token = (await File.ReadAllTextAsync(Path.Combine(ServerHome, "session"), cancellationToken).ConfigureAwait(false)).Trim();
        Api = new CoordinatorApi(Url, Token);
        for (var i = 0; i < _options.Daemons; i++)
        {
            await AddDaemonAsync(cancellationToken).ConfigureAwait(false);
        }

        var push = await RunCliAsync(
            ["templates", "push", TemplateName, "-d", _options.TemplateDirectory,
             "--variable", $"markers_root={MarkersRoot}", "--variable", $"sleep_seconds={_options.SleepSeconds.ToString(CultureInfo.InvariantCulture)}", "-y"],
            cancellationToken).ConfigureAwait(false);
        Require(push, "templates push");
        _log.Write($"fleet: ready with daemons {string.Join(", ", _daemons)}; template '{TemplateName}' pushed");
    }

    /// <summary>Runs the CLI as the admin (bounded); never throws for a non-zero exit.</summary>
    public Task<CommandResult> RunCliAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        CommandRunner.RunAsync(
            _options.CliPath,
            arguments,
            CliTimeout,
            new Dictionary<string, string?>
            {
                ["PROVISIONING_HOME"] = Path.Combine(Root.Path, "cli"),
                ["PROVISIONING_URL"] = Url.ToString(),
                ["PROVISIONING_SESSION_TOKEN"] = Token,
            },
            Root.Path,
            cancellationToken);

    public void StartServer()
    {
        Server?.Dispose();
        Server = ChildProcess.Start(
            _options.CliPath,
            ["server", "--http-address", $"127.0.0.1:{_httpPort}", "--grpc-address", $"127.0.0.1:{_grpcPort}", "--provisioner-daemons", "0",
             "--job-hang-timeout", string.Create(CultureInfo.InvariantCulture, $"{_options.HangTimeout.TotalSeconds:0}s")],
            ServerHome,
            new Dictionary<string, string?>
            {
                ["PROVISIONING_HOME"] = ServerHome,
                ["PROVISIONING_POSTGRES_URL"] = Postgres.Url, // Not on the command line: it carries the password.
                ["PROVISIONING_URL"] = null,
                ["PROVISIONING_SESSION_TOKEN"] = null,
            },
            Path.Combine(Root.Logs, "server.log"));
    }

    /// <summary>Waits (bounded) until the coordinator answers /readyz; fails when it exited or never got ready.</summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var api = new CoordinatorApi(Url, Token);
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (!await api.IsReadyAsync(cancellationToken).ConfigureAwait(false))
        {
            if (Server is { HasExited: true } server)
            {
                throw new InvalidOperationException($"`provisioning server` exited with code {server.ExitCode} before it was ready; see {Path.Combine(Root.Logs, "server.log")}.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"`provisioning server` was not ready within {ReadyTimeout.TotalSeconds:0} s; see {Path.Combine(Root.Logs, "server.log")}.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates a key and starts a new daemon with it; returns once the coordinator lists the daemon (bounded).</summary>
    public async Task<DaemonProcess> AddDaemonAsync(CancellationToken cancellationToken)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"fault-d{++_daemonCount}");
        var created = await RunCliAsync(["provisioner", "keys", "create", name], cancellationToken).ConfigureAwait(false);
        Require(created, "provisioner keys create");
        var daemon = new DaemonProcess(name, name, created.Stdout.Trim(), Path.Combine(Root.Path, "daemons", name));
        StartDaemon(daemon);
        _daemons.Add(daemon);
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (!(await Api.ListDaemonsAsync(cancellationToken).ConfigureAwait(false)).Any(listed => listed.Name == name))
        {
            if (!daemon.IsRunning || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Daemon {name} did not register (exit code {daemon.Process?.ExitCode}); see {Path.Combine(Root.Logs, name + ".log")}.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

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

        foreach (var process in _daemons.Concat(_retired).Select(daemon => daemon.Process).Append(Server))
        {
            process?.Dispose();
        }

        RunDirectory.RemoveAsync(Root.Path).GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // No graceful shutdown: the run is over and its database is thrown away. What matters is that nothing survives.
        foreach (var process in _daemons.Concat(_retired).Select(daemon => daemon.Process).Append(Server))
        {
            process?.Dispose();
        }

        Api?.Dispose();
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

    private static void Require(CommandResult result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"`provisioning {what}` failed (exit code {result.ExitCode}): {result.Output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
