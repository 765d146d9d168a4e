using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Provisioning.Daemon.Tests.Support;
using Provisioning.Testing;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// Acceptance tests of the fleet: the real coordinator host (REST + gRPC, built-in PostgreSQL), real
/// daemons and real Terraform (terraform_data + local-exec), driven through the REST API.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class FleetTests(TerraformCacheFixture terraform, FleetCoordinatorFixture fixture) : IClassFixture<FleetCoordinatorFixture>
{
    private static readonly string[] BuildStages = ["Setting up", "Planning infrastructure", "Applying changes", "Cleaning up"];

    private FleetCoordinator Coordinator => fixture.Coordinator;

    [Fact(Timeout = 180_000)]
    public async Task Workspace_StartStopDelete_ThroughARealDaemon_StateResourcesAndLogsFollowEachBuild()
    {
        // Arrange: a persistent resource and one that exists only while the workspace is started.
        var cancellationToken = TestContext.Current.CancellationToken;
        var tags = UniqueTags();
        var (template, workspace) = (FleetCoordinator.UniqueName("life"), FleetCoordinator.UniqueName("ws"));
        await using var daemon = Coordinator.StartDaemon(terraform.Directory, tags);
        await Coordinator.ImportTemplateAsync(template, """
            variable "workspace_transition" {
              type    = string
              default = "start"
            }

            variable "workspace_build_number" {
              type    = string
              default = "0"
            }

            resource "terraform_data" "home" {
              input = "persistent"
              provisioner "local-exec" {
                command = "echo home created"
              }
            }

            resource "terraform_data" "compute" {
              count = var.workspace_transition == "start" ? 1 : 0
              input = "build-${var.workspace_build_number}"
              provisioner "local-exec" {
                command = "echo compute up for build ${var.workspace_build_number}"
              }
            }
            """, tags, cancellationToken);

        // Act + Assert: start (build 1).
        var start = await Coordinator.WaitForEndAsync(await Coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken), cancellationToken);
        FleetCoordinator.AssertSucceeded(start);
        Assert.Equal(daemon.Daemon.DaemonId, start.GetProperty("worker_id").GetString());
        var started = await Coordinator.StateResourcesAsync(workspace, 1, cancellationToken);
        Assert.Equal(new Dictionary<string, string?> { ["terraform_data.home"] = "persistent", ["terraform_data.compute"] = "build-1" }, started);
        Assert.Equal(["compute", "home"], await ResourceNamesAsync(workspace, cancellationToken));
        await AssertBuildLogsAsync(start, "(local-exec): compute up for build 1", cancellationToken);

        // Stop (build 2): the compute resource is destroyed, the persistent one kept.
        var stop = await Coordinator.WaitForEndAsync(await Coordinator.BuildAsync(workspace, "stop", cancellationToken), cancellationToken);
        FleetCoordinator.AssertSucceeded(stop);
        Assert.Equal(new Dictionary<string, string?> { ["terraform_data.home"] = "persistent" }, await Coordinator.StateResourcesAsync(workspace, 2, cancellationToken));
        Assert.Equal(["home"], await ResourceNamesAsync(workspace, cancellationToken));
        await AssertBuildLogsAsync(stop, "terraform_data.compute[0]: Destruction complete", cancellationToken);

        // Delete (build 3): everything destroyed, and the workspace removed.
        var delete = await Coordinator.WaitForEndAsync(await Coordinator.BuildAsync(workspace, "delete", cancellationToken), cancellationToken);
        FleetCoordinator.AssertSucceeded(delete);
        await AssertBuildLogsAsync(delete, "terraform_data.home: Destruction complete", cancellationToken);
        using var gone = await Coordinator.Admin.GetAsync($"/api/v1/workspaces/{workspace}", cancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 180_000)]
    public async Task Jobs_TwoDaemonsWithDifferentTags_EachJobRunsOnTheMatchingDaemonAndAnUnmatchedOneWaitsWithAReason()
    {
        // Arrange: daemon A declares its tags with the PSK; daemon B gets its tags from a provisioner key.
        var cancellationToken = TestContext.Current.CancellationToken;
        var (tagsA, tagsB, tagsC) = (UniqueTags(), UniqueTags(), UniqueTags());
        var keyName = FleetCoordinator.UniqueName("key");
        var key = await CreateKeyAsync(keyName, tagsB, cancellationToken);
        await using var daemonA = Coordinator.StartDaemon(terraform.Directory, tagsA);
        await using var daemonB = Coordinator.StartDaemon(terraform.Directory, configure: options =>
        {
            options.PreSharedKey = null;
            options.ProvisionerKey = key;
        });

        // Act: one template version for each daemon's tags, one for nobody's.
        var jobA = await Coordinator.PushTemplateAsync(FleetCoordinator.UniqueName("ta"), SmallTemplate, tagsA, cancellationToken);
        var jobB = await Coordinator.PushTemplateAsync(FleetCoordinator.UniqueName("tb"), SmallTemplate, tagsB, cancellationToken);
        var jobC = await Coordinator.PushTemplateAsync(FleetCoordinator.UniqueName("tc"), SmallTemplate, tagsC, cancellationToken);
        var endedA = await Coordinator.WaitForEndAsync(jobA, cancellationToken);
        var endedB = await Coordinator.WaitForEndAsync(jobB, cancellationToken);

        // Assert: each ran on the daemon whose tags match, as GET /provisioners shows them.
        FleetCoordinator.AssertSucceeded(endedA);
        FleetCoordinator.AssertSucceeded(endedB);
        Assert.Equal(daemonA.Daemon.DaemonId, endedA.GetProperty("worker_id").GetString());
        Assert.Equal(daemonB.Daemon.DaemonId, endedB.GetProperty("worker_id").GetString());
        var provisioners = (await Coordinator.GetAsync("/api/v1/provisioners", cancellationToken)).EnumerateArray().ToList();
        var listedA = provisioners.Single(daemon => daemon.GetProperty("id").GetString() == daemonA.Daemon.DaemonId);
        var listedB = provisioners.Single(daemon => daemon.GetProperty("id").GetString() == daemonB.Daemon.DaemonId);
        Assert.Equal(tagsA, Tags(listedA));
        Assert.Equal(tagsB, Tags(listedB));
        Assert.Equal(keyName, listedB.GetProperty("key_name").GetString());

        // The job tagged for neither stays pending, with the reason.
        var pending = (await Coordinator.GetAsync("/api/v1/jobs?status=pending", cancellationToken)).EnumerateArray().Single(job => job.GetProperty("id").GetString() == jobC);
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("worker_id").ValueKind);
        var reason = pending.GetProperty("waiting_reason").GetString();
        Assert.True(reason?.Contains("no provisioner matches tags", StringComparison.Ordinal) == true, $"waiting_reason: {reason}");
        Assert.Contains(tagsC["pool"], reason, StringComparison.Ordinal);
        using var cancel = await Coordinator.Admin.PostAsync($"/api/v1/jobs/{jobC}/cancel", null, cancellationToken);
        Assert.True(cancel.IsSuccessStatusCode, $"cancel answered {cancel.StatusCode}");
    }

    [Fact(Timeout = 180_000)]
    public async Task Daemon_WithThreeSlots_RunsThreeBuildsAtOnceAndTheFourthWaitsForAFreeSlot()
    {
        // Arrange: each build writes when its local-exec starts, waits until three have started (a barrier
        // that only concurrent builds pass quickly), holds its slot 3 s longer, and writes when it ends.
        var cancellationToken = TestContext.Current.CancellationToken;
        var tags = UniqueTags();
        var marks = Directory.CreateTempSubdirectory("provisioning-fleet-slots-").FullName;
        try
        {
            var template = FleetCoordinator.UniqueName("slots");
            // No sandbox: the barrier is a directory the builds share, which a sandbox hides from each of them on purpose.
            await using var daemon = Coordinator.StartDaemon(terraform.Directory, tags, options =>
            {
                options.Slots = 3;
                options.Sandbox = Provisioning.Terraform.Sandbox.TerraformSandboxMode.None;
            });
            await Coordinator.ImportTemplateAsync(template, $$"""
                variable "workspace_name" {
                  type    = string
                  default = "none"
                }

                resource "terraform_data" "work" {
                  provisioner "local-exec" {
                    command = "date +%s.%N > {{marks}}/start-${var.workspace_name}; n=0; while [ $(ls {{marks}} | grep -c '^start-') -lt 3 ] && [ $n -lt 120 ]; do sleep 0.25; n=$((n+1)); done; sleep 3; date +%s.%N > {{marks}}/end-${var.workspace_name}"
                  }
                }
                """, tags, cancellationToken);

            // Act: four builds at once.
            var workspaces = Enumerable.Range(0, 4).Select(_ => FleetCoordinator.UniqueName("ws")).ToList();
            var jobs = new Dictionary<string, string>();
            foreach (var workspace in workspaces)
            {
                jobs[workspace] = await Coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken);
            }

            await Eventually.HoldsAsync(() => Directory.GetFiles(marks, "start-*").Length >= 3, "three builds started", TimeSpan.FromSeconds(90), cancellationToken);
            var statuses = new Dictionary<string, string>();
            foreach (var (workspace, job) in jobs)
            {
                statuses[workspace] = (await Coordinator.GetJobAsync(job, cancellationToken)).GetProperty("status").GetString()!;
            }

            var ended = new List<JsonElement>();
            foreach (var job in jobs.Values)
            {
                ended.Add(await Coordinator.WaitForEndAsync(job, cancellationToken));
            }

            // Assert: while three ran, the fourth was pending; the three overlapped; the fourth began after one ended.
            Assert.All(ended, FleetCoordinator.AssertSucceeded);
            Assert.All(ended, job => Assert.Equal(daemon.Daemon.DaemonId, job.GetProperty("worker_id").GetString()));
            Assert.Equal(3, statuses.Values.Count(status => status == "running"));
            var fourth = Assert.Single(statuses, status => status.Value == "pending").Key;
            var first = workspaces.Where(workspace => workspace != fourth).ToList();
            var starts = workspaces.ToDictionary(workspace => workspace, workspace => ReadMark(marks, "start-" + workspace));
            var ends = workspaces.ToDictionary(workspace => workspace, workspace => ReadMark(marks, "end-" + workspace));
            var firstEnded = first.Min(workspace => ends[workspace]);
            Assert.True(first.Max(workspace => starts[workspace]) < firstEnded, "The three builds did not overlap: " + Describe(starts, ends));
            Assert.True(starts[fourth] >= firstEnded, "The fourth build started before a slot was free: " + Describe(starts, ends));
        }
        finally
        {
            Directory.Delete(marks, recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Job_CanceledThroughTheApiDuringALongLocalExec_EndsCanceledWithinTheGracePeriodAndKeepsFinishedResources()
    {
        // Arrange
        var cancellationToken = TestContext.Current.CancellationToken;
        var tags = UniqueTags();
        var (template, workspace) = (FleetCoordinator.UniqueName("cancel"), FleetCoordinator.UniqueName("ws"));
        await using var daemon = Coordinator.StartDaemon(terraform.Directory, tags);
        await Coordinator.ImportTemplateAsync(template, """
            resource "terraform_data" "first" {
              input = "first"
              provisioner "local-exec" {
                command = "echo first done"
              }
            }

            resource "terraform_data" "slow" {
              depends_on = [terraform_data.first]
              input      = "slow"
              provisioner "local-exec" {
                command = "echo slow begins; sleep 60"
              }
            }
            """, tags, cancellationToken);
        var job = await Coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken);
        await WaitForLogAsync(job, "(local-exec): slow begins", cancellationToken);

        // Act
        var canceledAt = DateTimeOffset.UtcNow;
        using var cancel = await Coordinator.Admin.PostAsync($"/api/v1/jobs/{job}/cancel", null, cancellationToken);
        Assert.True(cancel.IsSuccessStatusCode, $"cancel answered {cancel.StatusCode}");
        var ended = await Coordinator.WaitForJobAsync(
            job, view => view.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled", "ended after the cancel", TimeSpan.FromSeconds(45), cancellationToken);
        var took = DateTimeOffset.UtcNow - canceledAt;

        // Assert: canceled within Terraform's interrupt grace period (10 s) plus reporting, well before the
        // daemon's force-cancel (30 s) or the sleep's end; the finished resource stays in the state.
        Assert.Equal("canceled", ended.GetProperty("status").GetString());
        Assert.True(took < TimeSpan.FromSeconds(25), $"The cancel took {took}.");
        var state = await Coordinator.StateResourcesAsync(workspace, 1, cancellationToken);
        Assert.True(state.ContainsKey("terraform_data.first"), "State after the cancel: " + string.Join(", ", state.Keys));
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 180_000)]
    public async Task Job_DaemonGoesSilentMidBuild_TheReaperFailsItAndTheWorkspaceBuildsAgain()
    {
        // Arrange: the daemon reaches the coordinator only through a TCP relay. Cutting the relay (every
        // connection reset, new ones refused) silences the daemon mid-build without letting it report.
        var cancellationToken = TestContext.Current.CancellationToken;
        var tags = UniqueTags();
        var (template, workspace) = (FleetCoordinator.UniqueName("silent"), FleetCoordinator.UniqueName("ws"));
        using var relay = new TcpRelay(Coordinator.GrpcAddress);
        var silentDisposed = false;
        var silent = DaemonHarness.Start(relay.Address, terraform.Directory, options =>
        {
            options.PreSharedKey = FleetCoordinator.Psk;
            options.ShutdownTimeout = TimeSpan.FromSeconds(3);
            foreach (var (key, value) in tags)
            {
                options.Tags[key] = value;
            }
        });
        try
        {
            await Coordinator.ImportTemplateAsync(template, """
                variable "workspace_build_number" {
                  type    = string
                  default = "0"
                }

                resource "terraform_data" "work" {
                  input = var.workspace_build_number
                  provisioner "local-exec" {
                    command = "echo work begins; sleep ${var.workspace_build_number == "1" ? 60 : 0}"
                  }
                }
                """, tags, cancellationToken);
            var job = await Coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken);
            await WaitForLogAsync(job, "(local-exec): work begins", cancellationToken);

            // Act: silence the daemon, then run maintenance until the reaper acts (the hang timeout is 6 s).
            relay.Cut();
            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(40);
            JsonElement reaped;
            while (true)
            {
                await Coordinator.RunMaintenanceAsync(cancellationToken);
                reaped = await Coordinator.GetJobAsync(job, cancellationToken);
                if (reaped.GetProperty("status").GetString() != "running" || DateTimeOffset.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(500, cancellationToken);
            }

            // Assert: failed as hung, and a healthy daemon builds the workspace again.
            Assert.Equal("failed", reaped.GetProperty("status").GetString());
            Assert.Equal("daemon_timeout", reaped.GetProperty("error_code").GetString());
            Assert.False(string.IsNullOrEmpty(reaped.GetProperty("error").GetString()));
            silentDisposed = true;
            await silent.DisposeAsync();
            await using var healthy = Coordinator.StartDaemon(terraform.Directory, tags);
            var rebuilt = await Coordinator.WaitForEndAsync(await Coordinator.BuildAsync(workspace, "start", cancellationToken), cancellationToken);
            FleetCoordinator.AssertSucceeded(rebuilt);
            Assert.Equal(healthy.Daemon.DaemonId, rebuilt.GetProperty("worker_id").GetString());
            Assert.Equal("2", (await Coordinator.StateResourcesAsync(workspace, 2, cancellationToken))["terraform_data.work"]);
        }
        finally
        {
            if (!silentDisposed)
            {
                await silent.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Register_WrongKeyRevokedKeyOrWrongPsk_IsRefusedAndTheDaemonStopsWithTheAuthenticationExitCode()
    {
        // Arrange: a real key with its secret altered, a key deleted before use, and a wrong PSK.
        var cancellationToken = TestContext.Current.CancellationToken;
        var real = await CreateKeyAsync(FleetCoordinator.UniqueName("key"), UniqueTags(), cancellationToken);
        var wrongKey = real[..(real.IndexOf('.', StringComparison.Ordinal) + 1)] + new string('x', real.Length - real.IndexOf('.', StringComparison.Ordinal) - 1);
        var revokedName = FleetCoordinator.UniqueName("key");
        var revoked = await CreateKeyAsync(revokedName, UniqueTags(), cancellationToken);
        using (var delete = await Coordinator.Admin.DeleteAsync($"/api/v1/provisioner-keys/{revokedName}", cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        var credentials = new (string What, Action<ProvisionerDaemonOptions> Configure)[]
        {
            ("wrong key", options => (options.PreSharedKey, options.ProvisionerKey) = (null, wrongKey)),
            ("revoked key", options => (options.PreSharedKey, options.ProvisionerKey) = (null, revoked)),
            ("wrong psk", options => options.PreSharedKey = "not-the-fleet-pre-shared-key-0123456789"),
        };

        var refused = new List<string>();
        foreach (var (what, configure) in credentials)
        {
            // Act
            await using var daemon = Coordinator.StartDaemon(terraform.Directory, configure: configure);
            var exception = await Assert.ThrowsAsync<ProvisionerDaemonException>(() => daemon.Run.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken));

            // Assert
            Assert.True(exception.ExitCode == ProvisionerDaemonException.AuthenticationExitCode, $"{what}: exit code {exception.ExitCode}: {exception.Message}");
            Assert.Equal("", daemon.Daemon.DaemonId);
            refused.Add(daemon.Options.Name);
        }

        var listed = (await Coordinator.GetAsync("/api/v1/provisioners", cancellationToken)).EnumerateArray().Select(daemon => daemon.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain(listed, name => name is not null && refused.Contains(name));
    }

    internal const string SmallTemplate = """
        resource "terraform_data" "x" {
          input = "x"
        }
        """;

    internal static Dictionary<string, string> UniqueTags() => new() { ["pool"] = FleetCoordinator.UniqueName("p") };

    private async Task<string> CreateKeyAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        using var response = await Coordinator.Admin.PostAsJsonAsync("/api/v1/provisioner-keys", new { name, tags }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("key").GetString()!;
    }

    private async Task<List<string>> ResourceNamesAsync(string workspace, CancellationToken cancellationToken) =>
        [.. (await Coordinator.GetAsync($"/api/v1/workspaces/{workspace}", cancellationToken)).GetProperty("resources").EnumerateArray()
            .Select(resource => resource.GetProperty("name").GetString()!).Order(StringComparer.Ordinal)];

    /// <summary>The build's stage lines came in order, its log ids increase, and Terraform's line <paramref name="expected"/> is among them.</summary>
    private async Task AssertBuildLogsAsync(JsonElement job, string expected, CancellationToken cancellationToken)
    {
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal(BuildStages, await Coordinator.StagesAsync(id, cancellationToken));
        var logs = await Coordinator.LogsAsync(id, cancellationToken);
        var ids = logs.Select(line => line.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Contains(logs, line => line.GetProperty("source").GetString() == "provisioner" && line.GetProperty("output").GetString()!.Contains(expected, StringComparison.Ordinal));
    }

    private async Task WaitForLogAsync(string jobId, string text, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
        while (!(await Coordinator.LogsAsync(jobId, cancellationToken)).Any(line => line.GetProperty("output").GetString()!.Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Job {jobId} logged no '{text}' in 90 s: {await Coordinator.GetJobAsync(jobId, cancellationToken)}");
            await Task.Delay(200, cancellationToken);
        }
    }

    private static Dictionary<string, string> Tags(JsonElement daemon) =>
        daemon.GetProperty("tags").EnumerateObject().ToDictionary(tag => tag.Name, tag => tag.Value.GetString()!);

    private static decimal ReadMark(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        Assert.True(File.Exists(path), $"No mark {name}.");
        return decimal.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
    }

    private static string Describe(Dictionary<string, decimal> starts, Dictionary<string, decimal> ends) =>
        string.Join("; ", starts.Select(start => $"{start.Key}: {start.Value}..{ends[start.Key]}"));
}
