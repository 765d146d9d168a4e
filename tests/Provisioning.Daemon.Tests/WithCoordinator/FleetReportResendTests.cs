using Provisioning.Daemon.Tests.Support;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// Invariant 3 across a daemon restart, with the real coordinator: a daemon that stops while the
/// coordinator is down keeps the build's report and state on disk, and the next daemon of the same name
/// re-sends them (uploading the state again) before it takes new work.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class FleetReportResendTests(TerraformCacheFixture terraform)
{
    [Fact(Timeout = 300_000)]
    public async Task Build_DaemonStoppedWhileTheCoordinatorWasDown_NextStartUploadsTheStateAgainAndEndsTheBuild()
    {
        // Arrange: a build gated on a file; daemons that always upload the state (never inline it).
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await FleetCoordinator.StartAsync(cancellationToken: cancellationToken);
        var tags = FleetTests.UniqueTags();
        var (template, workspace, name) = (FleetCoordinator.UniqueName("resend"), FleetCoordinator.UniqueName("ws"), FleetCoordinator.UniqueName("daemon"));
        var cache = Directory.CreateTempSubdirectory("provisioning-resend-").FullName;
        var (started, gate) = (Path.Combine(cache, "started"), Path.Combine(cache, "go"));
        void Configure(ProvisionerDaemonOptions options)
        {
            options.Name = name;
            options.CacheDirectory = cache;
            options.InlineStateLimitBytes = 0;
            options.ShutdownTimeout = TimeSpan.FromSeconds(3);

            // No sandbox: the gate is a file the test writes outside the job's work directory, which a sandbox
            // hides from the template on purpose.
            options.Sandbox = Provisioning.Terraform.Sandbox.TerraformSandboxMode.None;
        }

        try
        {
            var first = coordinator.StartDaemon(terraform.Directory, tags, Configure);
            first.KeepCache = true;
            await coordinator.ImportTemplateAsync(template, $$"""
                resource "terraform_data" "before" {
                  input = "before"
                }

                resource "terraform_data" "across" {
                  depends_on = [terraform_data.before]
                  input      = "across"
                  provisioner "local-exec" {
                    command = "touch {{started}}; while [ ! -f {{gate}} ]; do sleep 0.2; done"
                  }
                }
                """, tags, cancellationToken);
            var job = await coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken);
            await Eventually.HoldsAsync(() => File.Exists(started), "the build reached its gated step", TimeSpan.FromSeconds(90), cancellationToken);

            // Act: the coordinator goes away, Terraform finishes, the daemon stops without an answer; then both come back.
            await coordinator.StopAsync();
            await File.WriteAllTextAsync(gate, "", cancellationToken);
            var spooled = Path.Combine(first.Options.ReportsDirectory, job);
            await Eventually.HoldsAsync(() => File.Exists(Path.Combine(spooled, "completed.pb")), "the daemon spooled the report", TimeSpan.FromSeconds(90), cancellationToken);
            await first.DisposeAsync();
            Assert.True(File.Exists(Path.Combine(spooled, "state")), "The report's state is not on disk after the daemon stopped.");

            await coordinator.StartAgainAsync(cancellationToken);
            await using var second = coordinator.StartDaemon(terraform.Directory, tags, Configure);
            var ended = await coordinator.WaitForEndAsync(job, cancellationToken);

            // Assert: the build ended with the state the first daemon held, uploaded by the second.
            FleetCoordinator.AssertSucceeded(ended);
            Assert.Equal(second.Daemon.DaemonId, ended.GetProperty("worker_id").GetString());
            Assert.Equal(
                new Dictionary<string, string?> { ["terraform_data.before"] = "before", ["terraform_data.across"] = "across" },
                await coordinator.StateResourcesAsync(workspace, 1, cancellationToken));
            await second.AssertCleanedUpAsync(cancellationToken);
        }
        finally
        {
            try
            {
                Directory.Delete(cache, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
