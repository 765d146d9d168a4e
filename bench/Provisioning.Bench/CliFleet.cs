using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Provisioning.Bench;

/// <summary>
/// A real fleet of separate processes on 127.0.0.1, as a user runs it: `provisioning server` (built-in PostgreSQL in a
/// temporary home, or --postgres-url; no built-in daemon) and one `provisioning provisioner start` daemon with a key of
/// its own and one slot. The CLI is the `provisioning` executable built beside the bench. Disposing stops the daemon,
/// then the server (SIGTERM, so it stops its PostgreSQL), and removes the temporary directory.
/// </summary>
internal sealed class CliFleet : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan CliTimeout = TimeSpan.FromMinutes(10);

    private readonly List<Process> _processes = [];
    private string _token = string.Empty;

    private CliFleet(string root)
    {
        Root = root;
        Url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}/"));
        GrpcUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}/"));
    }

    public string Root { get; }

    public Uri Url { get; }

    /// <summary>Where daemons connect (cleartext HTTP/2).</summary>
    public Uri GrpcUrl { get; }

    /// <summary>
    /// The `provisioning` executable the fleet runs (server, daemon and CLI): by default the one built beside the bench
    /// (framework-dependent, compiled at run time); `--cli` names another, e.g. the release's ReadyToRun single file,
    /// which is what users run and starts faster. Set once, before the first fleet starts.
    /// </summary>
    public static string CliPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "provisioning");

    /// <summary>The server's process id (for /proc).</summary>
    public int ServerPid => _processes[0].Id;

    /// <summary>The daemon's process id (for /proc).</summary>
    public int DaemonPid { get; private set; }

    /// <summary>The plugin cache the daemon uses (its --cache-dir holds it).</summary>
    public string DaemonCacheDirectory => Path.Combine(Root, "daemon", "cache");

    /// <param name="startDaemon">Whether to start the fleet's `provisioning provisioner start` daemon (the idle-fleet scenario brings its own).</param>
    /// <param name="provisionerPsk">A pre-shared key the server accepts from daemons (the bench's test daemons use one).</param>
    public static async Task<CliFleet> StartAsync(
        string? postgresUrl, IReadOnlyDictionary<string, string?> daemonEnvironment, CancellationToken cancellationToken, bool startDaemon = true, string? provisionerPsk = null)
    {
        if (!File.Exists(CliPath))
        {
            throw new InvalidOperationException($"The `provisioning` executable {CliPath} does not exist: build bench/Provisioning.Bench, which builds the CLI beside it, or give --cli an executable that exists.");
        }

        await Console.Error.WriteLineAsync($"fleet: {CliPath}").ConfigureAwait(false);

        var root = Directory.CreateTempSubdirectory("provisioning-bench-fleet-").FullName;
        // The built-in cluster runs as the postgres user when we are root: it must be able to traverse the directory.
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The fleet scenarios run on Linux (they read /proc).");
        }

        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var fleet = new CliFleet(root);
        try
        {
            await fleet.StartCoreAsync(postgresUrl, daemonEnvironment, startDaemon, provisionerPsk, cancellationToken).ConfigureAwait(false);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs the CLI as the admin; <paramref name="onLine"/> sees stdout lines as they arrive.</summary>
    public Task<ChildRun> RunCliAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken, Action<string, long>? onLine = null) =>
        ChildRun.RunAsync(CliPath, arguments, Root, CliEnvironment(), CliTimeout, cancellationToken, onLine);

    /// <summary>The admin's HTTP client (bearer token), for what the CLI does not print.</summary>
    public HttpClient CreateApiClient()
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _token);
        return client;
    }

    /// <summary>Pushes <paramref name="directory"/> as template <paramref name="name"/> (activated).</summary>
    public async Task PushTemplateAsync(string name, string directory, CancellationToken cancellationToken) =>
        (await RunCliAsync(["templates", "push", name, "-d", directory, "-y"], cancellationToken).ConfigureAwait(false)).Require($"templates push {name}");

    public async ValueTask DisposeAsync()
    {
        // The daemon first (SIGTERM drains), then the server (it stops PostgreSQL last).
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            var process = _processes[i];
            try
            {
                if (!process.HasExited)
                {
                    using var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
                    await term.WaitForExitAsync().ConfigureAwait(false);
                    using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                    try
                    {
                        await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
            }
            catch (InvalidOperationException)
            {
                // It never started.
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"Could not remove {Root}: {exception.Message}").ConfigureAwait(false);
        }
    }

    private async Task StartCoreAsync(
        string? postgresUrl, IReadOnlyDictionary<string, string?> daemonEnvironment, bool startDaemon, string? provisionerPsk, CancellationToken cancellationToken)
    {
        var serverHome = Path.Combine(Root, "server");
        Directory.CreateDirectory(serverHome);
        Start(
            // The logs scenario prints up to millions of lines: the default 16 MiB per-job cap would leave most of them out.
            ["server", "--http-address", $"127.0.0.1:{Url.Port}", "--grpc-address", $"127.0.0.1:{GrpcUrl.Port}", "--provisioner-daemons", "0", "--max-job-log-size", "256MiB"],
            serverHome,
            new Dictionary<string, string?>
            {
                ["PROVISIONING_HOME"] = serverHome,
                ["PROVISIONING_POSTGRES_URL"] = postgresUrl,
                ["PROVISIONING_PROVISIONER_PSK"] = provisionerPsk,
                ["PROVISIONING_URL"] = null,
                ["PROVISIONING_SESSION_TOKEN"] = null,
            },
            Path.Combine(Root, "server.log"));
        using (var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) })
        {
            var deadline = Stopwatch.GetTimestamp();
            while (true)
            {
                try
                {
                    using var ready = await http.GetAsync(new Uri("readyz", UriKind.Relative), cancellationToken).ConfigureAwait(false);
                    if (ready.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                if (_processes[0].HasExited || Stopwatch.GetElapsedTime(deadline) > ReadyTimeout)
                {
                    throw new InvalidOperationException($"`provisioning server` did not become ready; see {Path.Combine(Root, "server.log")}:\n{await File.ReadAllTextAsync(Path.Combine(Root, "server.log"), cancellationToken).ConfigureAwait(false)}");
                }

                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        _token = (await File.ReadAllTextAsync(Path.Combine(serverHome, "session"), cancellationToken).ConfigureAwait(false)).Trim();
        if (!startDaemon)
        {
            return;
        }

        var key = (await RunCliAsync(["provisioner", "keys", "create", "bench"], cancellationToken).ConfigureAwait(false)).Require("provisioner keys create").Stdout.Trim();
        var daemonHome = Path.Combine(Root, "daemon");
        Directory.CreateDirectory(daemonHome);
        var environment = new Dictionary<string, string?>(daemonEnvironment)
        {
            ["PROVISIONING_PROVISIONER_KEY"] = key,
            ["PROVISIONING_HOME"] = daemonHome,
            ["PROVISIONING_URL"] = null,
            ["PROVISIONING_SESSION_TOKEN"] = null,
        };
        DaemonPid = Start(
            ["provisioner", "start", "--url", Url.ToString(), "--name", "bench", "--slots", "1", "--cache-dir", DaemonCacheDirectory],
            daemonHome,
            environment,
            Path.Combine(Root, "daemon.log")).Id;
    }

    private Dictionary<string, string?> CliEnvironment() => new()
    {
        ["PROVISIONING_HOME"] = Path.Combine(Root, "cli"),
        ["PROVISIONING_URL"] = Url.ToString(),
        ["PROVISIONING_SESSION_TOKEN"] = _token,
    };

    /// <summary>Starts a long-running CLI process whose output goes to <paramref name="logFile"/>.</summary>
    private Process Start(IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment, string logFile)
    {
        var start = new ProcessStartInfo(CliPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {CliPath}.");
        _processes.Add(process);
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var gate = new Lock();
        void Write(string? line)
        {
            if (line is not null)
            {
                lock (gate)
                {
                    log.WriteLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, args) => Write(args.Data);
        process.ErrorDataReceived += (_, args) => Write(args.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
