using System.Text.Json;
using System.Text.RegularExpressions;

namespace Provisioning.Cli.Tests;

/// <summary>
/// Templates are code: on the daemon built into `provisioning server` they run in a sandbox, so that whoever may push a
/// template cannot read the server's admin token, database password, environment or other jobs' files
/// (docs/decisions/0005-built-in-daemon-isolation.md).
/// </summary>
public sealed partial class BuiltInDaemonIsolationTests(SandboxedServerFixture fleet) : IClassFixture<SandboxedServerFixture>
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromMinutes(2);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BuiltInDaemon_TemplateReadingServerSecrets_GetsNoneAndStillSucceeds()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Reads /proc and sends signals: Linux only.");
        }

        // Arrange: another job that holds a secret in its work directory while the probe runs.
        var marker = NewMarker();
        var sleeper = await PushAsync("iso-sleeper", SleeperTemplate, ("marker", marker));
        var probe = await PushAsync("iso-probe", ProbeTemplate, ("home", fleet.Home), ("jobs", Path.Combine(fleet.Home, "cache", "jobs")));
        using var sleeping = fleet.StartDetached("create", "iso-sleeping", "-t", sleeper, "-y");
        var sleepingJob = await WaitForOutputAsync(sleeping, "sleeper-ready");

        // Act
        CliResult created;
        string log;
        try
        {
            created = await fleet.RunAsync("create", "iso-probe", "-t", probe, "-y");
            log = (await fleet.RunCheckedAsync("logs", "iso-probe", "--build", "1")).Stdout;
        }
        finally
        {
            await fleet.RunAsync("jobs", "cancel", sleepingJob);
            await FleetCollectAsync(sleeping);
        }

        // Assert: the probe ran to its end and succeeded, and no secret reached its log.
        var adminToken = (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), Token)).Trim();
        var databasePassword = (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "postgres", "password"), Token)).Trim();
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("probe-start", log, StringComparison.Ordinal);
        Assert.Contains("probe-end", log, StringComparison.Ordinal);
        Assert.Contains("TF_VAR_workspace_name=iso-probe", log, StringComparison.Ordinal); // env was printed: its own variables are there
        Assert.DoesNotContain(adminToken, log, StringComparison.Ordinal);
        Assert.DoesNotContain(databasePassword, log, StringComparison.Ordinal);
        Assert.DoesNotContain(fleet.ServerSecret, log, StringComparison.Ordinal);
        Assert.DoesNotContain(marker, log, StringComparison.Ordinal);
        Assert.DoesNotContain(adminToken, created.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(databasePassword, created.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuiltInDaemon_CanceledSleepingBuildInSandbox_EndsCanceledAndStopsItsScript()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Signals processes: Linux only.");
        }

        var marker = NewMarker();
        var sleeper = await PushAsync("iso-cancel", SleeperTemplate, ("marker", marker));
        using var sleeping = fleet.StartDetached("create", "iso-cancel", "-t", sleeper, "-y");
        var job = await WaitForOutputAsync(sleeping, "sleeper-ready");

        await fleet.RunCheckedAsync("jobs", "cancel", job);
        var ended = await FleetCollectAsync(sleeping);
        var jobs = JsonDocument.Parse((await fleet.RunCheckedAsync("jobs", "list", "-o", "json")).Stdout).RootElement;
        var log = (await fleet.RunCheckedAsync("logs", "iso-cancel", "--build", "1")).Stdout;

        Assert.NotEqual(0, ended.ExitCode);
        Assert.Equal("canceled", jobs.EnumerateArray().Single(entry => entry.GetProperty("id").GetString() == job).GetProperty("status").GetString());
        // Terraform got the interrupt itself (it stops gracefully), not only the kill after the grace period.
        Assert.Contains("Stopping operation", log, StringComparison.Ordinal);
        Assert.False(SleeperStillRuns(marker), "the canceled build's script still runs");
    }

    [Fact]
    public async Task Login_TokenFromFile_LogsInWithoutWarning()
    {
        var tokenFile = Path.Combine(fleet.Home, "token-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(tokenFile, (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), Token)).Trim() + "\n", Token);

        var result = await fleet.RunAsync("login", fleet.Url, "--token-file", tokenFile);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Logged in", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_TokenOnCommandLine_WarnsThatOtherUsersCanSeeIt()
    {
        var token = (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), Token)).Trim();

        var result = await fleet.RunAsync("login", fleet.Url, "--token", token);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("warning: --token on the command line is visible to every user of this machine", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--token-file", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_MissingTokenFile_FailsNamingTheFile()
    {
        var missing = Path.Combine(fleet.Home, "no-such-token");

        var result = await fleet.RunAsync("login", fleet.Url, "--token-file", missing);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"--token-file '{missing}' cannot be read", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProvisionerStart_KeyFromFile_RegistersWithoutWarning()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Signals processes: Linux only.");
        }

        // A tag keeps this daemon off the untagged jobs the other tests give the built-in daemon.
        var name = "keyfile-" + Guid.NewGuid().ToString("N")[..8];
        var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", name, "--tag", "iso=" + name)).Stdout.Trim();
        var keyFile = Path.Combine(fleet.Home, name + ".key");
        await File.WriteAllTextAsync(keyFile, key + "\n", Token);

        using var daemon = fleet.StartDetached("provisioner", "start", "--url", fleet.Url, "--name", name, "--key-file", keyFile, "--cache-dir", Path.Combine(fleet.Home, "cache-" + name));
        var listed = await WaitUntilAsync(async () =>
            JsonDocument.Parse((await fleet.RunCheckedAsync("provisioner", "list", "-o", "json")).Stdout).RootElement
                .EnumerateArray().Any(entry => entry.GetProperty("name").GetString() == name));
        using (var stop = System.Diagnostics.Process.Start("kill", ["-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await stop.WaitForExitAsync(Token);
        }

        var ended = await FleetCollectAsync(daemon);

        Assert.True(listed, "the daemon started with --key-file never registered:\n" + ended);
        Assert.DoesNotContain("warning: --key", ended.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProvisionerStart_KeyAndKeyFileBoth_RefusedBeforeStarting()
    {
        var keyFile = Path.Combine(fleet.Home, "both-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(keyFile, "some-key", Token);

        var result = await fleet.RunAsync("provisioner", "start", "--url", fleet.Url, "--key", "some-key", "--key-file", keyFile);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--key and --key-file are both given", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProvisionerStart_PskOnCommandLine_WarnsBeforeAnythingElse()
    {
        // --slots 0 makes the daemon refuse to start after the flags were read: the warning must already be out.
        var result = await fleet.RunAsync("provisioner", "start", "--url", fleet.Url, "--psk", "a-pre-shared-key-of-length", "--slots", "0");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("warning: --psk on the command line is visible to every user of this machine", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("PROVISIONING_PROVISIONER_PSK", result.Stderr, StringComparison.Ordinal);
    }

    private const string SleeperTemplate = """
        variable "marker" {
          type = string
        }

        resource "terraform_data" "sleeper" {
          provisioner "local-exec" {
            command = "echo ${var.marker} > marker; echo sleeper-ready; sleep ${var.marker}"
          }
        }
        """;

    // Tries every way out of the sandbox the issue names; each attempt's failure is printed, none stops the build.
    private const string ProbeTemplate = """
        variable "home" {
          type = string
        }

        variable "jobs" {
          type = string
        }

        resource "terraform_data" "probe" {
          provisioner "local-exec" {
            interpreter = ["/bin/sh", "-c"]
            command     = <<-EOT
              echo probe-start
              cat "$PROVISIONING_HOME/session" "${var.home}/session" "${var.home}/postgres/password" 2>&1
              ls -laR "${var.home}" 2>&1 | head -100
              for f in /proc/*/environ; do echo "$f"; tr '\0' '\n' < "$f" 2>&1; done
              for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' < "$f" 2>&1; echo; done
              find "${var.jobs}" -type f 2>&1 | head -100
              find "${var.jobs}" -name marker -exec cat {} + 2>&1
              cat ../*/marker ../../*/*/marker 2>&1
              env
              echo probe-end
            EOT
          }
        }
        """;

    /// <summary>A secret another job holds that is also the number of seconds its `sleep` runs, so the sleep is findable in /proc.</summary>
    private static string NewMarker() =>
        "600." + System.Security.Cryptography.RandomNumberGenerator.GetInt32(100_000_000, 999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string> PushAsync(string prefix, string mainTf, params (string Name, string Value)[] variables)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        var directory = Path.Combine(fleet.Home, "templates", name);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "main.tf"), mainTf, Token);
        List<string> arguments = ["templates", "push", name, "-d", directory, "-y"];
        foreach (var (variable, value) in variables)
        {
            arguments.AddRange(["--variable", $"{variable}={value}"]);
        }

        await fleet.RunCheckedAsync([.. arguments]);
        return name;
    }

    /// <summary>Reads a following `create` until it printed <paramref name="text"/> (bounded); returns the job id it printed first.</summary>
    private static async Task<string> WaitForOutputAsync(System.Diagnostics.Process process, string text)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(WaitTimeout);
        var seen = new System.Text.StringBuilder();
        string? job = null;
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            job ??= JobIdPattern().Match(line) is { Success: true } match ? match.Groups[1].Value : null;
            if (line.Contains(text, StringComparison.Ordinal))
            {
                Assert.True(job is not null, "no job id before:\n" + seen);
                return job;
            }
        }

        Assert.Fail($"the build ended without printing '{text}':\n{seen}{await process.StandardError.ReadToEndAsync(Token)}");
        return "";
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(WaitTimeout);
        while (!timeout.IsCancellationRequested)
        {
            if (await condition())
            {
                return true;
            }

            try
            {
                await Task.Delay(500, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return false;
    }

    private static Task<CliResult> FleetCollectAsync(System.Diagnostics.Process process) => CliFleetFixture.CollectAsync(process, WaitTimeout);

    /// <summary>Whether a `sleep MARKER` of a build is alive anywhere on the machine (read from the host's /proc).</summary>
    private static bool SleeperStillRuns(string marker) =>
        Directory.EnumerateDirectories("/proc")
            .Where(directory => int.TryParse(Path.GetFileName(directory), out _))
            .Any(directory =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(marker, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            });

    [GeneratedRegex(@"job ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")]
    private static partial Regex JobIdPattern();
}
