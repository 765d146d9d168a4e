using Provisioning.Daemon.Tests.Support;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>The coordinator stopped and started again (same database, same ports) while a real daemon builds.</summary>
[Collection(DaemonCollection.Name)]
public sealed class FleetRestartTests(TerraformCacheFixture terraform)
{
    [Fact(Timeout = 240_000)]
    public async Task Build_CoordinatorRestartedMidBuild_CompletesWithItsStateAndLogs()
    {
        // Arrange: a build whose second resource marks (in a file in its work directory, which a sandboxed Terraform
        // can write too) that it printed its last line; the coordinator stays down until then, so that line and the
        // build's end happen while it is away.
        var cancellationToken = TestContext.Current.CancellationToken;
        var markerName = "provisioning-fleet-restart-" + Guid.NewGuid().ToString("N")[..12];
        await using var coordinator = await FleetCoordinator.StartAsync(cancellationToken: cancellationToken);
        var tags = FleetTests.UniqueTags();
        var (template, workspace) = (FleetCoordinator.UniqueName("restart"), FleetCoordinator.UniqueName("ws"));
        await using var daemon = coordinator.StartDaemon(terraform.Directory, tags);
        await coordinator.ImportTemplateAsync(template, $$"""
            resource "terraform_data" "before" {
              input = "before"
              provisioner "local-exec" {
                command = "echo before done"
              }
            }

            resource "terraform_data" "across" {
              depends_on = [terraform_data.before]
              input      = "across"
              provisioner "local-exec" {
                command = "echo across begins; sleep 4; echo across ends; touch {{markerName}}"
              }
            }
            """, tags, cancellationToken);
        var job = await coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken);
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
        while (!(await coordinator.LogsAsync(job, cancellationToken)).Any(line => line.GetProperty("output").GetString()!.EndsWith("(local-exec): across begins", StringComparison.Ordinal)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The build never reached its long step.");
            await Task.Delay(200, cancellationToken);
        }

        // Act: stop the coordinator (and its PostgreSQL) mid-build, then start it again on the same home and ports.
        await coordinator.StopAsync();
        bool MarkerExists() => Directory.Exists(daemon.Options.JobsDirectory)
            && Directory.EnumerateFiles(daemon.Options.JobsDirectory, markerName, SearchOption.AllDirectories).Any();
        Assert.False(MarkerExists(), "The long step ended before the coordinator had stopped; the test proves nothing about a restart.");
        await Eventually.HoldsAsync(MarkerExists, "the long step ended while the coordinator was down", TimeSpan.FromSeconds(60), cancellationToken);

        await coordinator.StartAgainAsync(cancellationToken);
        var ended = await coordinator.WaitForEndAsync(job, cancellationToken);

        // Assert: the same daemon completed it, and the state and every log line reached the coordinator.
        FleetCoordinator.AssertSucceeded(ended);
        Assert.Equal(daemon.Daemon.DaemonId, ended.GetProperty("worker_id").GetString());
        Assert.Equal(
            new Dictionary<string, string?> { ["terraform_data.before"] = "before", ["terraform_data.across"] = "across" },
            await coordinator.StateResourcesAsync(workspace, 1, cancellationToken));
        Assert.Equal(["Setting up", "Planning infrastructure", "Applying changes", "Cleaning up"], await coordinator.StagesAsync(job, cancellationToken));
        var outputs = (await coordinator.LogsAsync(job, cancellationToken)).Select(line => line.GetProperty("output").GetString()!).ToList();
        Assert.Single(outputs, output => output.EndsWith("(local-exec): before done", StringComparison.Ordinal));
        Assert.Single(outputs, output => output.EndsWith("(local-exec): across begins", StringComparison.Ordinal));
        Assert.Single(outputs, output => output.EndsWith("(local-exec): across ends", StringComparison.Ordinal));
        Assert.Single(outputs, output => output.StartsWith("terraform_data.across: Creation complete", StringComparison.Ordinal));
    }
}
