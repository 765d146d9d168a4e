using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// A fleet as a user starts it, all separate processes of the built CLI: `provisioning server` (built-in PostgreSQL,
/// no built-in daemon) on free ports in a temporary PROVISIONING_HOME, a login, a provisioner key, one
/// `provisioning provisioner start` daemon with it, and templates/local pushed as `local` with its workspaces under
/// the temporary home. Every wait is bounded; Dispose stops the daemon (SIGTERM), then the server (SIGINT), killing
/// whatever does not stop in time.
/// </summary>
public class CliFleetFixture : IAsyncLifetime
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private Process? _server;
    private int _httpPort;
    private int _grpcPort;
    private Process? _daemon;
    private readonly System.Text.StringBuilder _serverOutput = new();

    public string Home { get; } = Path.Combine(Path.GetTempPath(), "provisioning-cli-tests-" + Guid.NewGuid().ToString("N")[..12]);

    public string WorkspacesRoot => Path.Combine(Home, "workspaces");

    public string Url { get; private set; } = string.Empty;

    /// <summary>What `provisioning server` printed so far (stdout and stderr).</summary>
    public string ServerOutput
    {
        get
        {
            lock (_serverOutput)
            {
                return _serverOutput.ToString();
            }
        }
    }

    /// <summary>Slots of the daemon inside the server (--provisioner-daemons); with 0 a standalone daemon is started with a key.</summary>
    protected virtual int BuiltInDaemonSlots => 0;

    /// <summary>Further flags of `provisioning server`.</summary>
    protected virtual IReadOnlyList<string> ExtraServerArguments => [];

    /// <summary>Further environment variables of `provisioning server` only.</summary>
    protected virtual IReadOnlyDictionary<string, string>? ServerEnvironment => null;

    /// <summary>Environment variables of every CLI process the fixture starts (commands, daemons, the server).</summary>
    protected virtual IReadOnlyDictionary<string, string>? ClientEnvironment => null;

    /// <summary>The scheme of the server's API (https when a subclass gives it a certificate).</summary>
    protected virtual string Scheme => "http";

    /// <summary>The address flags of `provisioning server`.</summary>
    protected virtual IReadOnlyList<string> AddressArguments(int httpPort, int grpcPort) =>
        ["--http-address", $"127.0.0.1:{httpPort}", "--grpc-address", $"127.0.0.1:{grpcPort}"];

    /// <summary>The handler the fixture's own HTTP calls (the readiness probe) use; a TLS fixture trusts its authority here.</summary>
    protected virtual HttpMessageHandler CreateProbeHandler() => new SocketsHttpHandler();

    /// <summary>The port daemons' cleartext gRPC listens on (the server's --grpc-address).</summary>
    public int GrpcPort => _grpcPort;

    public static string Executable => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "provisioning.exe" : "provisioning");

    public virtual async ValueTask InitializeAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // The tests skip themselves: they read processes from /proc and send signals.
        }

        TerraformRequirement.Require();
        Directory.CreateDirectory(Home);
        File.SetUnixFileMode(Home, (UnixFileMode)0b111_101_101); // The built-in PostgreSQL runs as `postgres` under root and must traverse it.
        (_httpPort, _grpcPort) = (FreePort(), FreePort());
        Url = $"{Scheme}://127.0.0.1:{_httpPort}";
        await StartServerAsync();

        await RunCheckedAsync("login", Url);
        if (BuiltInDaemonSlots == 0)
        {
            var key = (await RunCheckedAsync("provisioner", "keys", "create", "cli-tests")).Stdout.Trim();
            _daemon = Start(
                ["provisioner", "start", "--url", Url, "--name", "cli-tests", "--slots", "2", "--cache-dir", Path.Combine(Home, "cache")],
                new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key });
        }

        await RunCheckedAsync("templates", "push", "local", "-d", Path.Combine(SharedFolder.RepositoryRoot, "templates", "local"), "--variable", $"workspaces_root={WorkspacesRoot}", "-y");
    }

    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        await StopAsync(_daemon, "TERM");
        ServerExitCode ??= await StopAsync(_server, "INT");
        _daemon?.Dispose();
        _server?.Dispose();
        KillLeftoverWorkspaceProcesses();
        try
        {
            if (Directory.Exists(Home))
            {
                Directory.Delete(Home, recursive: true);
            }
        }
        catch (IOException)
        {
            // A workspace process may still be writing its heartbeat; the temporary folder is the system's to clean.
        }
    }

    /// <summary>A test that failed before deleting its workspace leaves that workspace's process running: end it.</summary>
    private void KillLeftoverWorkspaceProcesses()
    {
        if (!Directory.Exists(WorkspacesRoot))
        {
            return;
        }

        foreach (var pidFile in Directory.EnumerateFiles(WorkspacesRoot, "workspace.pid", SearchOption.AllDirectories))
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Already gone.
                }
            }
        }
    }

    /// <summary>Runs the CLI to its end (bounded by <see cref="CommandTimeout"/>) with this fleet's home.</summary>
    public Task<CliResult> RunAsync(params string[] arguments) => RunAsync(arguments, null);

    /// <summary>Runs the CLI with extra environment variables (PROVISIONING_HOME among them replaces the fleet's).</summary>
    public async Task<CliResult> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        using var process = Start(arguments, environment, redirectInput: true);
        process.StandardInput.Close();
        return await CollectAsync(process, CommandTimeout);
    }

    public async Task<CliResult> RunCheckedAsync(params string[] arguments)
    {
        var result = await RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"provisioning {string.Join(' ', arguments)} failed:\n{result}");
        return result;
    }

    /// <summary>Starts the CLI and leaves it running; stdin is closed, as from a script.</summary>
    public Process StartDetached(params string[] arguments)
    {
        var process = Start(arguments, null, redirectInput: true);
        process.StandardInput.Close();
        return process;
    }

    public static async Task<CliResult> CollectAsync(Process process, TimeSpan timeout)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"`provisioning` did not end within {timeout}:\n{await stdout}\n{await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts `provisioning server` again on the same home (database) and ports, after <see cref="StopServerAsync"/>.</summary>
    public async Task StartServerAsync()
    {
        _server?.Dispose();
        ServerExitCode = null;
        _server = Start(
            ["server", .. AddressArguments(_httpPort, _grpcPort), "--provisioner-daemons", BuiltInDaemonSlots.ToString(CultureInfo.InvariantCulture), .. ExtraServerArguments],
            ServerEnvironment,
            output: _serverOutput);
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await WaitUntilReadyAsync(timeout.Token);
    }

    /// <summary>Starts a long-running CLI process (e.g. another daemon) with this fleet's home; its stdout goes to <paramref name="output"/>.</summary>
    public Process StartLongRunning(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, System.Text.StringBuilder output) =>
        Start(arguments, environment, output: output);

    /// <summary>Sends <paramref name="signal"/> (e.g. TERM) to a process and waits (bounded) for it to exit; returns its exit code, null when it had to be killed.</summary>
    public static Task<int?> SignalAndWaitAsync(Process process, string signal) => StopAsync(process, signal);

    /// <summary>The server's exit code once disposed (null: killed or never started).</summary>
    public int? ServerExitCode { get; private set; }

    /// <summary>Stops the server as Ctrl+C does and returns its exit code (null when it had to be killed).</summary>
    public async Task<int?> StopServerAsync() => ServerExitCode = await StopAsync(_server, "INT");

    private Process Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, bool redirectInput = false, System.Text.StringBuilder? output = null)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PROVISIONING_HOME"] = Home;
        start.Environment.Remove("PROVISIONING_URL");
        start.Environment.Remove("PROVISIONING_SESSION_TOKEN");
        foreach (var (name, value) in ClientEnvironment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        if (!redirectInput)
        {
            // Long-running processes: keep their pipes drained so they never block on a full buffer.
            process.OutputDataReceived += (_, line) =>
            {
                if (output is not null && line.Data is not null)
                {
                    lock (output)
                    {
                        output.AppendLine(line.Data);
                    }
                }
            };
            process.ErrorDataReceived += (_, line) =>
            {
                if (output is not null && line.Data is not null)
                {
                    lock (output)
                    {
                        output.AppendLine(line.Data);
                    }
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        return process;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient(CreateProbeHandler()) { BaseAddress = new Uri(Url) };
        while (true)
        {
            Assert.False(_server!.HasExited, $"`provisioning server` exited early with code {(_server.HasExited ? _server.ExitCode : 0)}.");
            try
            {
                using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet: the built-in PostgreSQL starts first.
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task<int?> StopAsync(Process? process, string signal)
    {
        if (process is null)
        {
            return null;
        }

        if (!process.HasExited)
        {
            using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return null;
            }
        }

        return process.ExitCode;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
