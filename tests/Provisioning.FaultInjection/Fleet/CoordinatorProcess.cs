using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// The fleet's `provisioning server` on 127.0.0.1 (no built-in daemon, a short --job-hang-timeout, the database from
/// PROVISIONING_POSTGRES_URL) and the admin's use of it: the REST API with the server's session token and the CLI.
/// Shared by the process fleet (<see cref="ProvisioningFleet"/>) and the container fleet of
/// tests/Provisioning.ContainerFaultTests, whose database and daemons are containers but whose coordinator is the same.
/// </summary>
internal sealed class CoordinatorProcess : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan CliTimeout = TimeSpan.FromMinutes(3);

    private readonly string _cliPath;
    private readonly string _root;
    private readonly string _logs;
    private readonly TimeSpan _hangTimeout;
    private readonly Func<string> _postgresUrl;
    private readonly int _httpPort = FreePort();

    /// <param name="cliPath">The `provisioning` executable.</param>
    /// <param name="root">The run's root: the server's home and the CLI's live below it.</param>
    /// <param name="logs">Where server.log goes.</param>
    /// <param name="hangTimeout">The server's --job-hang-timeout.</param>
    /// <param name="postgresUrl">The database URL, read at each start (it carries a password: never on the command line).</param>
    public CoordinatorProcess(string cliPath, string root, string logs, TimeSpan hangTimeout, Func<string> postgresUrl)
    {
        _cliPath = cliPath;
        _root = root;
        _logs = logs;
        _hangTimeout = hangTimeout;
        _postgresUrl = postgresUrl;
        Url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_httpPort}"));
    }

    public Uri Url { get; }

    public int GrpcPort { get; } = FreePort();

    public ChildProcess? Server { get; private set; }

    /// <summary>The REST API as the admin; set by <see cref="StartAndSignInAsync"/>.</summary>
    public CoordinatorApi Api { get; private set; } = null!;

    public string LogFile => Path.Combine(_logs, "server.log");

    private string Home => Path.Combine(_root, "server");

    private string Token { get; set; } = string.Empty;

    /// <summary>Starts the server, waits until it is ready and signs in as the admin it created.</summary>
    public async Task StartAndSignInAsync(CancellationToken cancellationToken)
    {
        Start();
        await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        Token = (await File.ReadAllTextAsync(Path.Combine(Home, "session"), cancellationToken).ConfigureAwait(false)).Trim();
        Api = new CoordinatorApi(Url, Token);
    }

    /// <summary>Starts (or restarts, on the same ports and database) `provisioning server`.</summary>
    public void Start()
    {
        Server?.Dispose();
        Server = ChildProcess.Start(
            _cliPath,
            ["server", "--http-address", $"127.0.0.1:{_httpPort}", "--grpc-address", $"127.0.0.1:{GrpcPort}", "--provisioner-daemons", "0",
             "--job-hang-timeout", string.Create(CultureInfo.InvariantCulture, $"{_hangTimeout.TotalSeconds:0}s")],
            Home,
            new Dictionary<string, string?>
            {
                ["PROVISIONING_HOME"] = Home,
                ["PROVISIONING_POSTGRES_URL"] = _postgresUrl(),
                ["PROVISIONING_URL"] = null,
                ["PROVISIONING_SESSION_TOKEN"] = null,
            },
            LogFile);
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
                throw new InvalidOperationException($"`provisioning server` exited with code {server.ExitCode} before it was ready; see {LogFile}.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"`provisioning server` was not ready within {ReadyTimeout.TotalSeconds:0} s; see {LogFile}.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the CLI as the admin (bounded); never throws for a non-zero exit.</summary>
    public Task<CommandResult> RunCliAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        CommandRunner.RunAsync(
            _cliPath,
            arguments,
            CliTimeout,
            new Dictionary<string, string?>
            {
                ["PROVISIONING_HOME"] = Path.Combine(_root, "cli"),
                ["PROVISIONING_URL"] = Url.ToString(),
                ["PROVISIONING_SESSION_TOKEN"] = Token,
            },
            _root,
            cancellationToken);

    /// <summary>`provisioning templates push` of the fault template with its variables; fails when the push did.</summary>
    public async Task PushTemplateAsync(string name, string directory, string markersRoot, int sleepSeconds, CancellationToken cancellationToken) =>
        Require(
            await RunCliAsync(
                ["templates", "push", name, "-d", directory,
                 "--variable", $"markers_root={markersRoot}", "--variable", $"sleep_seconds={sleepSeconds.ToString(CultureInfo.InvariantCulture)}", "-y"],
                cancellationToken).ConfigureAwait(false),
            "templates push");

    /// <summary>`provisioning provisioner keys create NAME`: the new key's secret.</summary>
    public async Task<string> CreateKeyAsync(string name, CancellationToken cancellationToken)
    {
        var created = await RunCliAsync(["provisioner", "keys", "create", name], cancellationToken).ConfigureAwait(false);
        Require(created, "provisioner keys create");
        return created.Stdout.Trim();
    }

    /// <summary>Waits (bounded) until the coordinator lists a daemon named <paramref name="name"/>; fails when <paramref name="isRunning"/> says it is gone.</summary>
    public async Task WaitUntilRegisteredAsync(string name, Func<bool> isRunning, string logFile, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (!(await Api.ListDaemonsAsync(cancellationToken).ConfigureAwait(false)).Any(listed => listed.Name == name))
        {
            if (!isRunning() || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Daemon {name} did not register; see {logFile}.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Server?.Dispose();
        Api?.Dispose();
    }

    private static void Require(CommandResult result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"`provisioning {what}` failed (exit code {result.ExitCode}): {result.Output}");
        }
    }

    /// <summary>A port the kernel just gave out on 127.0.0.1 (taken just before use).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
