using System.Net.Http.Json;
using System.Text.Json;

using Microsoft.Extensions.DependencyInjection;

using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Tests.Api;
using Provisioning.Testing;

namespace Provisioning.Coordinator.Tests.Fleet;

/// <summary>
/// Real daemon processes (`provisioning provisioner start`, real Terraform) against the real coordinator,
/// receiving real signals, with work driven through the REST API.
/// </summary>
public sealed class DaemonProcessTests(DaemonProcessFixture fixture) : IClassFixture<DaemonProcessFixture>
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(2);

    // Build 1 holds its slot (60 s, or 5 s with a short hold); later builds finish at once.
    private const string Template = """
        variable "workspace_build_number" {
          type    = string
          default = "0"
        }

        variable "hold" {
          type    = string
          default = "60"
        }

        resource "terraform_data" "work" {
          input = var.workspace_build_number
          provisioner "local-exec" {
            command = "echo work begins; sleep ${var.workspace_build_number == "1" ? var.hold : 0}; echo work ends"
          }
        }
        """;

    private ApiServer Server => fixture.Server;

    [Fact(Timeout = 180_000)]
    public async Task DaemonProcess_KilledWithSigkillMidBuild_TheReaperFailsTheJobAndTheWorkspaceBuildsAgain()
    {
        // Arrange
        RequireLinux();
        var cancellationToken = TestContext.Current.CancellationToken;
        using var admin = await Server.AdminAsync();
        var tags = new Dictionary<string, string> { ["pool"] = ApiFixture.UniqueName("p") };
        var (template, workspace) = (ApiFixture.UniqueName("kill"), ApiFixture.UniqueName("ws"));
        using var killed = DaemonProcess.Start(Server.HttpAddress, ApiServer.Psk, tags, slots: 1);
        AssertSucceeded(await WaitForEndAsync(admin, await PushAsync(admin, template, "60", tags, cancellationToken), cancellationToken));
        var job = await CreateWorkspaceAsync(admin, workspace, template, cancellationToken);
        await WaitForLogAsync(admin, job, "(local-exec): work begins", cancellationToken);

        // Act: SIGKILL the daemon and everything it started (its Terraform too), as the OOM killer of
        // its container would; it reports nothing. Then run maintenance until the reaper acts.
        killed.Process.Kill(entireProcessTree: true);
        await killed.Process.WaitForExitAsync(cancellationToken);
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(40);
        JsonElement reaped;
        do
        {
            await Task.Delay(500, cancellationToken);
            await Server.Services.GetRequiredService<CoordinatorMaintenance>().RunAsync(cancellationToken);
            reaped = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job}", cancellationToken);
        }
        while (reaped.GetProperty("status").GetString() == "running" && DateTimeOffset.UtcNow < deadline);

        // Assert: failed as hung; a new daemon process builds the workspace again.
        Assert.Equal("failed", reaped.GetProperty("status").GetString());
        Assert.Equal("daemon_timeout", reaped.GetProperty("error_code").GetString());
        using var replacement = DaemonProcess.Start(Server.HttpAddress, ApiServer.Psk, tags, slots: 1);
        var rebuilt = await WaitForEndAsync(admin, await BuildAsync(admin, workspace, "start", cancellationToken), cancellationToken);
        AssertSucceeded(rebuilt);
        Assert.Equal(await DaemonIdAsync(admin, replacement.Name, cancellationToken), rebuilt.GetProperty("worker_id").GetString());
    }

    [Fact(Timeout = 180_000)]
    public async Task DaemonProcess_SigtermDuringABuild_FinishesTheBuildExitsZeroAndTakesNoNewJob()
    {
        // Arrange: two slots, so the daemon has a free one it would use if it were not draining.
        RequireLinux();
        var cancellationToken = TestContext.Current.CancellationToken;
        using var admin = await Server.AdminAsync();
        var tags = new Dictionary<string, string> { ["pool"] = ApiFixture.UniqueName("p") };
        var template = ApiFixture.UniqueName("term");
        var (first, second) = (ApiFixture.UniqueName("ws"), ApiFixture.UniqueName("ws"));
        using var daemon = DaemonProcess.Start(Server.HttpAddress, ApiServer.Psk, tags, slots: 2);
        AssertSucceeded(await WaitForEndAsync(admin, await PushAsync(admin, template, "5", tags, cancellationToken), cancellationToken));
        var job = await CreateWorkspaceAsync(admin, first, template, cancellationToken);
        await WaitForLogAsync(admin, job, "(local-exec): work begins", cancellationToken);

        // Act: SIGTERM mid-build; once the daemon says it drains, queue another build it could take.
        var terminatedAt = DateTime.UtcNow;
        await daemon.SignalAsync("TERM", cancellationToken);
        await daemon.WaitForOutputAsync("Draining", TimeSpan.FromSeconds(10), cancellationToken);
        var late = await CreateWorkspaceAsync(admin, second, template, cancellationToken);
        using var exit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        exit.CancelAfter(TimeSpan.FromSeconds(60));
        await daemon.Process.WaitForExitAsync(exit.Token);

        // Assert: the running build finished (after the signal) on this daemon, the process exited 0, and
        // the build queued during the drain is still pending, untaken.
        Assert.True(daemon.Process.ExitCode == 0, $"exit code {daemon.Process.ExitCode}:\n{daemon.Output}");
        var finished = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job}", cancellationToken);
        AssertSucceeded(finished);
        Assert.Equal(await DaemonIdAsync(admin, daemon.Name, cancellationToken), finished.GetProperty("worker_id").GetString());
        Assert.True(finished.GetProperty("completed_at").GetDateTime() > terminatedAt, $"The build ended before the SIGTERM: {finished}");
        Assert.Contains(await LogsAsync(admin, job, cancellationToken), line => line.EndsWith("(local-exec): work ends", StringComparison.Ordinal));
        var waiting = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{late}", cancellationToken);
        Assert.Equal("pending", waiting.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, waiting.GetProperty("worker_id").ValueKind);
        using var cancel = await admin.PostAsync($"/api/v1/jobs/{late}/cancel", null, cancellationToken);
        Assert.True(cancel.IsSuccessStatusCode, $"cancel answered {cancel.StatusCode}");
    }

    private static void RequireLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Sends POSIX signals to daemon processes.");
        }

        TerraformRequirement.Require();
    }

    private static void AssertSucceeded(JsonElement job) =>
        Assert.True(job.GetProperty("status").GetString() == "succeeded", $"The job did not succeed: {job}");

    private static async Task<string> PushAsync(HttpClient admin, string template, string hold, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Create(("main.tf", $"# {Guid.NewGuid()}\n" + Template)), cancellationToken);
        using var response = await admin.PostAsJsonAsync(
            $"/api/v1/templates/{template}/versions",
            new { file_hash = hash, provisioner_tags = tags, activate = true, user_variable_values = new[] { new { name = "hold", value = hold } } },
            cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"push answered {response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return (await ApiFixture.ReadAsync(response, cancellationToken)).GetProperty("job").GetProperty("id").GetString()!;
    }

    private static async Task<string> CreateWorkspaceAsync(HttpClient admin, string workspace, string template, CancellationToken cancellationToken)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace, template }, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"create answered {response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return (await ApiFixture.ReadAsync(response, cancellationToken)).GetProperty("latest_build").GetProperty("job").GetProperty("id").GetString()!;
    }

    private static async Task<string> BuildAsync(HttpClient admin, string workspace, string transition, CancellationToken cancellationToken)
    {
        using var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/builds", new { transition }, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"build answered {response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return (await ApiFixture.ReadAsync(response, cancellationToken)).GetProperty("job").GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> WaitForEndAsync(HttpClient admin, string job, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + JobTimeout;
        while (true)
        {
            var view = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job}", cancellationToken);
            if (view.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled")
            {
                return view;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"Job {job} has not ended within {JobTimeout}: {view}");
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task<List<string>> LogsAsync(HttpClient admin, string job, CancellationToken cancellationToken) =>
        [.. (await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job}/logs", cancellationToken)).EnumerateArray().Select(line => line.GetProperty("output").GetString()!)];

    private static async Task WaitForLogAsync(HttpClient admin, string job, string text, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + JobTimeout;
        while (!(await LogsAsync(admin, job, cancellationToken)).Any(line => line.EndsWith(text, StringComparison.Ordinal)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Job {job} logged no '{text}' within {JobTimeout}.");
            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task<string> DaemonIdAsync(HttpClient admin, string name, CancellationToken cancellationToken) =>
        (await ApiFixture.GetJsonAsync(admin, "/api/v1/provisioners", cancellationToken)).EnumerateArray()
            .Single(daemon => daemon.GetProperty("name").GetString() == name).GetProperty("id").GetString()!;
}
