using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Provisioning.Coordinator.Tests.Cli;

/// <summary>Runs the built `provisioning server` as its own process with the built-in PostgreSQL, as an operator would.</summary>
public sealed class ServerCommandTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Server_BuiltInPostgres_BecomesReadyServesTheApiWithTheWrittenTokenAndStopsOnSigint()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Sends SIGINT, which needs a Unix system.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeout);
        var token = timeout.Token;
        var home = PostgresServerFixture.CreateTemporaryHome();
        var (httpPort, grpcPort) = (FreePort(), FreePort());
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "provisioning.exe" : "provisioning"))
        {
            ArgumentList = { "server", "--http-address", $"127.0.0.1:{httpPort}", "--job-hang-timeout", "2m" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PROVISIONING_HOME"] = home;
        start.Environment["PROVISIONING_GRPC_ADDRESS"] = $"127.0.0.1:{grpcPort}";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(token);
        var errors = process.StandardError.ReadToEndAsync(token);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await WaitUntilReadyAsync(client, process, token);
            var sessionToken = (await File.ReadAllTextAsync(Path.Combine(home, "session"), token)).Trim();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users/me");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sessionToken);
            using var me = await client.SendAsync(request, token);
            var buildInfo = JsonDocument.Parse(await client.GetStringAsync("/api/v1/buildinfo", token)).RootElement;
            var postgresPort = int.Parse(await File.ReadAllTextAsync(Path.Combine(home, "postgres", "port"), token), System.Globalization.CultureInfo.InvariantCulture);

            using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync(token);
            }

            await process.WaitForExitAsync(token);
            var printed = await output;

            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            Assert.Equal("admin", JsonDocument.Parse(await me.Content.ReadAsStringAsync(token)).RootElement.GetProperty("username").GetString());
            Assert.Equal($"http://127.0.0.1:{grpcPort}", buildInfo.GetProperty("grpc_address").GetString());
            Assert.Equal(0, process.ExitCode);
            Assert.Contains($"http://127.0.0.1:{httpPort}/api/v1", printed, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(home, "session"), printed, StringComparison.Ordinal);
            Assert.Contains("provisioning provisioner start", printed, StringComparison.Ordinal);
            Assert.False(await AcceptsConnectionsAsync(postgresPort), "The built-in PostgreSQL still runs after the server stopped.");
        }
        catch (Exception) when (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        finally
        {
            if (process.HasExited)
            {
                TestContext.Current.TestOutputHelper?.WriteLine(await errors);
            }

            Directory.Delete(home, recursive: true);
        }
    }

    [Theory]
    [InlineData("--max-upload-size", "10KB", "MaxUploadBytes")]
    [InlineData("--job-hang-timeout", "soon", "not a duration")]
    [InlineData("--http-address", "nowhere", "not a listen address")]
    [InlineData("--provisioner-sandbox", "maybe", "not a sandbox mode")]
    [InlineData("--bwrap-path", "bin/bwrap", "not an absolute path")]
    [InlineData("--provisioner-psk-file", "/nonexistent/provisioning-tests/psk", "--provisioner-psk-file '/nonexistent/provisioning-tests/psk' cannot be read")]
    [InlineData("--postgres-url-file", "/nonexistent/provisioning-tests/url", "--postgres-url-file '/nonexistent/provisioning-tests/url' cannot be read")]
    public async Task Server_InvalidFlag_ExitsWith2NamingTheProblemWithoutStarting(string flag, string value, string expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeout);
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "provisioning.exe" : "provisioning"))
        {
            ArgumentList = { "server", flag, value },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;

        var errors = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_RequiredSandboxUnavailable_ExitsWith4BeforeStarting()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeout);
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "provisioning.exe" : "provisioning"))
        {
            ArgumentList = { "server", "--provisioner-sandbox", "bubblewrap", "--bwrap-path", "/nonexistent/provisioning-tests/bwrap" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;

        var errors = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(4, process.ExitCode);
        Assert.Contains("error: --provisioner-sandbox bubblewrap: Terraform cannot run: the bubblewrap sandbox is required", errors, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/provisioning-tests/bwrap", errors, StringComparison.Ordinal);
    }

    private static async Task WaitUntilReadyAsync(HttpClient client, Process process, CancellationToken cancellationToken)
    {
        while (true)
        {
            Assert.False(process.HasExited, $"`provisioning server` exited early with code {(process.HasExited ? process.ExitCode : 0)}.");
            try
            {
                using var response = await client.GetAsync("/readyz", cancellationToken);
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

    private static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        using var socket = new TcpClient();
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
