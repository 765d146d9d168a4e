using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Provisioning.Cli.Tests;

/// <summary>
/// How `provisioning provisioner start` ends, as separate processes against `provisioning server`: killed
/// (SIGKILL) while it holds a state the coordinator has not acknowledged, and drained (SIGTERM) with a job
/// that outlasts --drain-timeout. Each test runs its own daemon with a tagged key, so only it takes the
/// test's jobs.
/// </summary>
public sealed class DaemonStopTests(CliFleetFixture fleet) : IClassFixture<CliFleetFixture>
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    [Fact(Timeout = 420_000)]
    public async Task ProvisionerStart_KilledBeforeTheReportWasAcknowledged_ResendsItWithItsStateOnRestart()
    {
        SkipUnlessLinux();
        var cancellationToken = TestContext.Current.CancellationToken;
        var test = new TestDaemon(fleet, "crash");
        var gate = Path.Combine(test.Directory, "go");
        var daemon = await test.StartAsync();
        Process? restarted = null;
        await test.PushTemplateAsync($$"""
            resource "terraform_data" "before" {
              input = "before"
            }

            resource "terraform_data" "across" {
              depends_on = [terraform_data.before]
              input      = "across"
              provisioner "local-exec" {
                command = "touch {{test.Started}}; while [ ! -f {{gate}} ]; do sleep 0.2; done; echo across ends"
              }
            }
            """);
        try
        {
            var jobId = await test.CreateWorkspaceAsync(cancellationToken);
            await WaitUntilAsync(() => File.Exists(test.Started), "the build reached its gated step", cancellationToken);

            // Act: the coordinator goes down, Terraform finishes meanwhile, and the daemon is killed while it
            // holds the only copy of the new state (its report cannot reach the coordinator).
            Assert.NotNull(await fleet.StopServerAsync());
            await File.WriteAllTextAsync(gate, "", cancellationToken);
            var spooled = Path.Combine(test.ReportsDirectory, jobId);
            await WaitUntilAsync(() => File.Exists(Path.Combine(spooled, "completed.pb")), "the daemon spooled the build's report", cancellationToken);
            daemon.Kill();
            await daemon.WaitForExitAsync(cancellationToken);
            Assert.True(File.Exists(Path.Combine(spooled, "state")), "The spooled report has no state file.");

            await fleet.StartServerAsync();
            restarted = await test.StartAsync();
            var job = await test.WaitForJobEndAsync(jobId, cancellationToken);

            // Assert: the build ended with the state the killed daemon held, and the daemon forgot it only then.
            Assert.True(job.GetProperty("status").GetString() == "succeeded", $"The build did not succeed: {job}\n--- daemon after restart:\n{test.Output}");
            var state = await fleet.RunCheckedAsync("state", "pull", test.Workspace);
            Assert.Contains("\"before\"", state.Stdout, StringComparison.Ordinal);
            Assert.Contains("\"across\"", state.Stdout, StringComparison.Ordinal);
            await WaitUntilAsync(() => !Directory.Exists(spooled), "the daemon removed the acknowledged report", cancellationToken);
            Assert.Contains("Re-sending the complete report of job " + jobId, test.Output, StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(daemon);
            await StopAsync(restarted);
        }
    }

    [Fact(Timeout = 420_000)]
    public async Task ProvisionerStart_KilledMidApplyWithTerraform_ReportsTheStateTerraformLeftOnRestart()
    {
        SkipUnlessLinux();
        var cancellationToken = TestContext.Current.CancellationToken;
        var test = new TestDaemon(fleet, "midapply");
        var daemon = await test.StartAsync();
        Process? restarted = null;
        await test.PushTemplateAsync($$"""
            resource "terraform_data" "before" {
              input = "before"
            }

            resource "terraform_data" "never" {
              depends_on = [terraform_data.before]
              provisioner "local-exec" {
                command = "touch {{test.Started}}; sleep 600"
              }
            }
            """);
        try
        {
            var jobId = await test.CreateWorkspaceAsync(cancellationToken);
            await WaitUntilAsync(() => File.Exists(test.Started), "the build reached its endless step", cancellationToken);

            // Act: the daemon's machine goes down mid-apply (the daemon and Terraform die together, no report), and
            // the daemon starts again: the work directory it finds holds the state Terraform had written.
            daemon.Kill(entireProcessTree: true);
            await daemon.WaitForExitAsync(cancellationToken);
            restarted = await test.StartAsync();
            var job = await test.WaitForJobEndAsync(jobId, cancellationToken);

            // Assert: the job ended through the restarted daemon's report (not the reaper, minutes later), and the
            // resource Terraform created before it died is named by the workspace's state.
            Assert.True(job.GetProperty("error_code").GetString() == "daemon_error", $"The build did not end by the daemon's report: {job}\n{test.Output}");
            var state = await fleet.RunCheckedAsync("state", "pull", test.Workspace);
            Assert.Contains("\"before\"", state.Stdout, StringComparison.Ordinal);
            Assert.Contains("Re-sending the fail report of job " + jobId, test.Output, StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(daemon);
            await StopAsync(restarted);
        }
    }

    [Fact(Timeout = 420_000)]
    public async Task ProvisionerStart_KilledAloneMidApply_TheRestartedDaemonStopsTheOrphanedTerraformBeforeReportingItsState()
    {
        SkipUnlessLinux();
        var cancellationToken = TestContext.Current.CancellationToken;
        var test = new TestDaemon(fleet, "orphan");
        var daemon = await test.StartAsync();
        Process? restarted = null;
        var marker = Path.Combine(test.Directory, "made-by-orphan");
        await test.PushTemplateAsync($$"""
            resource "terraform_data" "before" {
              input = "before"
            }

            resource "terraform_data" "late" {
              depends_on = [terraform_data.before]
              provisioner "local-exec" {
                command = "touch {{test.Started}}; sleep 6; touch {{marker}}"
              }
            }
            """);
        try
        {
            var jobId = await test.CreateWorkspaceAsync(cancellationToken);
            await WaitUntilAsync(() => File.Exists(test.Started), "the build reached its slow step", cancellationToken);

            // Act: only the daemon dies; its Terraform goes on creating "late". The daemon starts again at once.
            daemon.Kill();
            await daemon.WaitForExitAsync(cancellationToken);
            restarted = await test.StartAsync();
            var job = await test.WaitForJobEndAsync(jobId, cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(8), cancellationToken); // Longer than the slow step: an orphan that survived would have made its marker.

            // Assert: the orphaned Terraform was stopped before the state was read, so nothing it made is missing from the state.
            var state = await fleet.RunCheckedAsync("state", "pull", test.Workspace);
            Assert.True(job.GetProperty("error_code").GetString() == "daemon_error", $"The build did not end by the daemon's report: {job}\n{test.Output}");
            Assert.Contains("\"before\"", state.Stdout, StringComparison.Ordinal);
            Assert.True(!File.Exists(marker) || state.Stdout.Contains("\"late\"", StringComparison.Ordinal), $"The orphaned Terraform made 'late' after the state was reported:\n{state.Stdout}\n{test.Output}");
            Assert.Contains("Stopped", test.Output, StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(daemon);
            await StopAsync(restarted);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task ProvisionerStart_SigtermWithAJobLongerThanTheDrainTimeout_CancelsItReportsItsStateAndExits()
    {
        SkipUnlessLinux();
        var cancellationToken = TestContext.Current.CancellationToken;
        var test = new TestDaemon(fleet, "drain");
        var daemon = await test.StartAsync("--drain-timeout", "2s");
        await test.PushTemplateAsync($$"""
            resource "terraform_data" "before" {
              input = "before"
            }

            resource "terraform_data" "slow" {
              depends_on = [terraform_data.before]
              provisioner "local-exec" {
                command = "touch {{test.Started}}; sleep 300"
              }
            }
            """);
        try
        {
            var jobId = await test.CreateWorkspaceAsync(cancellationToken);
            await WaitUntilAsync(() => File.Exists(test.Started), "the build reached its long step", cancellationToken);

            // Act
            var exitCode = await CliFleetFixture.SignalAndWaitAsync(daemon, "TERM");

            // Assert: the daemon waited for the drain timeout, then canceled the job and reported its state before exiting.
            Assert.True(exitCode == 0, $"The daemon exited with {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "a kill"}:\n{test.Output}");
            var job = await test.WaitForJobEndAsync(jobId, cancellationToken);
            // The daemon canceled it, not a user: the job failed with the error code "canceled".
            Assert.True(job.GetProperty("error_code").GetString() == "canceled", $"The build was not canceled: {job}\n{test.Output}");
            Assert.Contains("drain timeout 00:00:02 passed with 1 job(s) still running", test.Output, StringComparison.Ordinal);
            var state = await fleet.RunCheckedAsync("state", "pull", test.Workspace);
            Assert.Contains("\"before\"", state.Stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.Exists(test.ReportsDirectory) ? Directory.EnumerateFileSystemEntries(test.ReportsDirectory) : []);
        }
        finally
        {
            await StopAsync(daemon);
        }
    }

    private static async Task StopAsync(Process? process)
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        process.Dispose();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + StepTimeout;
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Timed out after {StepTimeout} waiting until {what}.");
            await Task.Delay(100, cancellationToken);
        }
    }

    private static void SkipUnlessLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Signals processes: Linux only.");
        }
    }

    /// <summary>One test's daemon (its own name, tag, key and cache), template and workspace.</summary>
    private sealed class TestDaemon(CliFleetFixture fleet, string prefix)
    {
        private readonly StringBuilder _output = new();
        private string? _key;

        public string Name { get; } = prefix + Guid.NewGuid().ToString("N")[..8];

        public string Directory => Path.Combine(fleet.Home, Name);

        public string Cache => Path.Combine(Directory, "cache");

        public string ReportsDirectory => Path.Combine(Cache, "reports", Name);

        public string Started => Path.Combine(Directory, "started");

        public string Workspace => Name + "-ws";

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public async Task PushTemplateAsync(string mainTf)
        {
            var template = Path.Combine(Directory, "template");
            System.IO.Directory.CreateDirectory(template);
            await File.WriteAllTextAsync(Path.Combine(template, "main.tf"), mainTf);
            await fleet.RunCheckedAsync("templates", "push", Name, "-d", template, "--provisioner-tag", $"test={Name}", "-y");
        }

        /// <summary>Starts the daemon (creating its tagged key the first time); the template import needs it running.</summary>
        public async Task<Process> StartAsync(params string[] extra)
        {
            _key ??= (await fleet.RunCheckedAsync("provisioner", "keys", "create", Name, "--tag", $"test={Name}")).Stdout.Trim();
            return fleet.StartLongRunning(
                ["provisioner", "start", "--url", fleet.Url, "--name", Name, "--cache-dir", Cache, .. extra],
                new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = _key },
                _output);
        }

        /// <summary>Creates the workspace through the REST API (no client following it); returns its first build's job id.</summary>
        public async Task<string> CreateWorkspaceAsync(CancellationToken cancellationToken)
        {
            using var client = await ClientAsync(cancellationToken);
            using var response = await client.PostAsJsonAsync("/api/v1/workspaces", new { name = Workspace, template = Name }, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"Creating the workspace answered {(int)response.StatusCode}: {body}");
            return JsonDocument.Parse(body).RootElement.GetProperty("latest_build").GetProperty("job").GetProperty("id").GetString()!;
        }

        /// <summary>Polls the job (bounded) until it ended.</summary>
        public async Task<JsonElement> WaitForJobEndAsync(string jobId, CancellationToken cancellationToken)
        {
            using var client = await ClientAsync(cancellationToken);
            var deadline = DateTimeOffset.UtcNow + StepTimeout;
            while (true)
            {
                using var response = await client.GetAsync(new Uri($"/api/v1/jobs/{jobId}", UriKind.Relative), cancellationToken);
                var job = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
                if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled")
                {
                    return job;
                }

                Assert.True(DateTimeOffset.UtcNow < deadline, $"Job {jobId} did not end within {StepTimeout}: {job}\n--- daemon:\n{Output}");
                await Task.Delay(200, cancellationToken);
            }
        }

        private async Task<HttpClient> ClientAsync(CancellationToken cancellationToken)
        {
            var client = new HttpClient { BaseAddress = new Uri(fleet.Url) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), cancellationToken)).Trim());
            return client;
        }
    }
}
