using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// The systemd readiness protocol as systemd speaks it (cli/Hosting/SystemdHostingExtensions.cs): the test plays the
/// service manager, listening on a Unix datagram socket named by NOTIFY_SOCKET, and starts a real `provisioning server`
/// and a real `provisioning provisioner start`. READY=1 must arrive once the host has started, STOPPING=1 on SIGTERM.
/// </summary>
public sealed class SystemdReadinessTests
{
    private static readonly TimeSpan NotificationTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ServerAndDaemon_WithNotifySocket_SendReadyWhenStartedAndStoppingOnSigterm()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Unix datagram sockets and signals: Linux only.");
            return;
        }

        TerraformRequirement.Require();
        var home = Path.Combine(Path.GetTempPath(), "provisioning-notify-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101); // The built-in PostgreSQL runs as `postgres` under root.
        var httpPort = FreePort();
        var url = $"http://127.0.0.1:{httpPort}";
        var psk = "notify-test-" + Guid.NewGuid().ToString("N");
        using var serverSocket = new NotifySocket();
        using var daemonSocket = new NotifySocket();
        Process? server = null;
        Process? daemon = null;
        try
        {
            server = Start(["server", "--http-address", $"127.0.0.1:{httpPort}", "--grpc-address", $"127.0.0.1:{FreePort()}", "--provisioner-daemons", "0"],
                home, new() { ["NOTIFY_SOCKET"] = serverSocket.Path, ["PROVISIONING_PROVISIONER_PSK"] = psk });
            var serverReady = await serverSocket.ReceiveAsync(NotificationTimeout, server);
            // READY=1 means "started": the REST API answers at that moment, without waiting.
            using var client = new HttpClient();
            using var health = await client.GetAsync(new Uri(url + "/healthz"), TestContext.Current.CancellationToken);
            // The version daemons and operators see (docs/decisions/0011-releases.md): the same as `provisioning --version`.
            var buildInfo = JsonDocument.Parse(await client.GetStringAsync(new Uri(url + "/api/v1/buildinfo"), TestContext.Current.CancellationToken)).RootElement;
            var cliVersion = (await ProcessRunner.RunAsync(CliFleetFixture.Executable, ["--version"], NotificationTimeout)).Stdout.Trim();

            daemon = Start(["provisioner", "start", "--url", url, "--name", "notify-test", "--cache-dir", Path.Combine(home, "daemon-cache")],
                home, new() { ["NOTIFY_SOCKET"] = daemonSocket.Path, ["PROVISIONING_PROVISIONER_PSK"] = psk });
            var daemonReady = await daemonSocket.ReceiveAsync(NotificationTimeout, daemon);

            var daemonExit = await CliFleetFixture.SignalAndWaitAsync(daemon, "TERM");
            var daemonStopping = await daemonSocket.ReceiveAsync(NotificationTimeout, null);
            var serverExit = await CliFleetFixture.SignalAndWaitAsync(server, "TERM");
            var serverStopping = await serverSocket.ReceiveAsync(NotificationTimeout, null);

            Assert.Equal("READY=1", serverReady);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(cliVersion, buildInfo.GetProperty("version").GetString());
            Assert.Equal("READY=1", daemonReady);
            Assert.Equal("STOPPING=1", daemonStopping);
            Assert.Equal(0, daemonExit);
            Assert.Equal("STOPPING=1", serverStopping);
            Assert.Equal(0, serverExit);
        }
        finally
        {
            foreach (var process in new[] { daemon, server })
            {
                if (process is { HasExited: false })
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }

                process?.Dispose();
            }

            try
            {
                Directory.Delete(home, recursive: true);
            }
            catch (IOException)
            {
                // PostgreSQL may still be removing its files; the temporary folder is the system's to clean.
            }
        }
    }

    private static Process Start(IEnumerable<string> arguments, string home, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(CliFleetFixture.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PROVISIONING_HOME"] = home;
        start.Environment.Remove("PROVISIONING_URL");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        // Drained so that a full pipe never blocks it.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
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

    /// <summary>A Unix datagram socket in /tmp (a short path: sun_path holds 108 bytes), as systemd's notify socket is.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

        public NotifySocket()
        {
            Path = System.IO.Path.Combine("/tmp", "pn-" + Guid.NewGuid().ToString("N")[..12] + ".sock");
            _socket.Bind(new UnixDomainSocketEndPoint(Path));
        }

        public string Path { get; }

        /// <summary>The next datagram, failing when it does not come within <paramref name="timeout"/> or the sender exits first.</summary>
        public async Task<string> ReceiveAsync(TimeSpan timeout, Process? sender)
        {
            using var cancel = new CancellationTokenSource(timeout);
            var buffer = new byte[4096];
            var receive = _socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token).AsTask();
            if (sender is not null)
            {
                var exited = sender.WaitForExitAsync(cancel.Token);
                if (await Task.WhenAny(receive, exited) == exited && !receive.IsCompleted && sender.HasExited)
                {
                    await cancel.CancelAsync();
                    Assert.Fail($"`provisioning` exited with code {sender.ExitCode.ToString(CultureInfo.InvariantCulture)} before notifying.");
                }
            }

            try
            {
                var length = await receive;
                return Encoding.UTF8.GetString(buffer, 0, length).Trim();
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"No notification within {timeout}.");
                return "";
            }
        }

        public void Dispose()
        {
            _socket.Dispose();
            File.Delete(Path);
        }
    }
}
