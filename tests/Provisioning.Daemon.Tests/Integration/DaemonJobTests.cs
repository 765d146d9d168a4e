using Google.Protobuf;

using Provisioning.Daemon.Tests.Support;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Daemon.Tests.Integration;

/// <summary>The daemon runs each job type through the real Terraform provisioner against the <see cref="TestCoordinator"/>.</summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonJobTests(TerraformCacheFixture terraform)
{
    private const string WorkspaceTemplate = """
        variable "greeting" {
          type    = string
          default = "hello"
        }

        variable "workspace_transition" {
          type    = string
          default = "start"
        }

        resource "terraform_data" "home" {
          input = var.greeting
          provisioner "local-exec" {
            command = "echo home says ${var.greeting}"
          }
        }

        resource "terraform_data" "compute" {
          count = var.workspace_transition == "start" ? 1 : 0
          input = var.greeting
          provisioner "local-exec" {
            command = "echo compute started"
          }
        }
        """;

    private static readonly string[] BuildStages = ["Setting up", "Planning infrastructure", "Applying changes", "Cleaning up"];

    [Fact(Timeout = 240_000)]
    public async Task Daemon_TemplateImportThenStartStopDelete_CompletesEachWithStatesAndOrderedLogs()
    {
        // Arrange: archive and states travel as coordinator files, so download and upload are both used.
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob { File = coordinator.AddFile(await Templates.PackAsync(WorkspaceTemplate, cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.InlineStateLimitBytes = 0);

        // Act + Assert: import.
        var import = coordinator.Enqueue(Templates.Import(archive, ("greeting", "hi")));
        var imported = (await import.WaitAsync(cancellationToken)).RequireCompleted(import.LogText).TemplateImport;
        Assert.Equal(["compute", "home"], imported.StartResources.Select(resource => resource.Name).Order());
        Assert.Equal(["home"], imported.StopResources.Select(resource => resource.Name));
        var parsed = Assert.Single(import.Updates, update => update.TemplateVariables.Count > 0);
        Assert.Equal(["greeting", "workspace_transition"], parsed.TemplateVariables.Select(variable => variable.Name).Order());
        Assert.Equal("hi", Assert.Single(parsed.UserVariableValues).Value);
        AssertStagesInOrder(import, ["Setting up", "Parsing template parameters", "Detecting persistent resources", "Detecting ephemeral resources", "Cleaning up"]);

        // Start: creates both resources; the new state is uploaded as a file.
        var start = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1, variables: ("greeting", "hi")));
        var started = (await start.WaitAsync(cancellationToken)).RequireCompleted(start.LogText).WorkspaceBuild;
        Assert.Equal(Blob.ContentOneofCase.File, started.State.ContentCase);
        var startState = ByteString.CopyFrom(coordinator.Files[started.State.File.Id]);
        Assert.Equal(["terraform_data.compute", "terraform_data.home"], Templates.StateResources(startState).Order());
        Assert.Contains(started.Resources, resource => resource.Name == "compute");
        Assert.NotEmpty(started.Timings);
        AssertStagesInOrder(start, BuildStages);
        Assert.Contains(start.Logs, log => log is { Source: LogSource.Provisioner, Stage: "Applying changes" } && log.Output.Contains("compute started", StringComparison.Ordinal));

        // Stop: the prior state (a file reference) is downloaded; compute goes away, home stays.
        var stop = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Stop, 2, started.State, ("greeting", "hi")));
        var stopped = (await stop.WaitAsync(cancellationToken)).RequireCompleted(stop.LogText).WorkspaceBuild;
        var stopState = ByteString.CopyFrom(coordinator.Files[stopped.State.File.Id]);
        Assert.Equal(["terraform_data.home"], Templates.StateResources(stopState));

        // Delete: nothing is left.
        var delete = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Destroy, 3, stopped.State, ("greeting", "hi")));
        var deleted = (await delete.WaitAsync(cancellationToken)).RequireCompleted(delete.LogText).WorkspaceBuild;
        Assert.Empty(Templates.StateResources(ByteString.CopyFrom(coordinator.Files[deleted.State.File.Id])));
        Assert.Empty(deleted.Resources);

        await daemon.AssertCleanedUpAsync(cancellationToken);
        await Eventually.HoldsAsync(() => daemon.Daemon.RunningJobs == 0, "the last job is off its slot", TimeSpan.FromSeconds(10), cancellationToken);
        Assert.Equal(1, daemon.Daemon.Metrics.JobCount("template_version_import", "succeeded"));
        Assert.Equal(3, daemon.Daemon.Metrics.JobCount("workspace_build", "succeeded"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_DryRun_CompletesWithPlannedResourcesAndServesHealthAndMetrics()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob { Inline = ByteString.CopyFrom(await Templates.PackAsync(WorkspaceTemplate, cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options =>
        {
            options.HealthAddress = "127.0.0.1:0";
            options.MetricsAddress = "127.0.0.1:0";
        });
        await Eventually.HoldsAsync(() => daemon.Daemon.IsReady, "the daemon is ready", TimeSpan.FromSeconds(30), cancellationToken);

        var job = coordinator.Enqueue(Templates.DryRun(archive));
        var dryRun = (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText).TemplateDryRun;

        Assert.Equal(["compute", "home"], dryRun.Resources.Select(resource => resource.Name).Order());
        Assert.DoesNotContain(job.Logs, log => log.Stage == "Applying changes");
        using var http = new HttpClient();
        var endpoints = daemon.Daemon.Endpoints!;
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri(endpoints.HealthUrl!, "/healthz"), cancellationToken));
        Assert.Equal("ready\n", await http.GetStringAsync(new Uri(endpoints.HealthUrl!, "/readyz"), cancellationToken));
        await Eventually.HoldsAsync(() => daemon.Daemon.RunningJobs == 0, "the job is off the slot", TimeSpan.FromSeconds(10), cancellationToken);
        var metrics = await http.GetStringAsync(new Uri(endpoints.MetricsUrl!, "/metrics"), cancellationToken);
        Assert.Contains("provisionerd_jobs_total{type=\"template_version_dry_run\",outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("provisionerd_coordinator_connected 1", metrics, StringComparison.Ordinal);
        Assert.Contains("provisionerd_busy_slots 0", metrics, StringComparison.Ordinal);
        Assert.Contains("process_cpu_seconds_total", metrics, StringComparison.Ordinal);
        Assert.Contains("provisionerd_job_duration_seconds_count{type=\"template_version_dry_run\",outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Daemon_ThreeSlots_RunsThreeJobsAtOnceAndTheFourthWaitsForAFreeSlot()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob
        {
            Inline = ByteString.CopyFrom(await Templates.PackAsync("""
                resource "terraform_data" "slow" {
                  provisioner "local-exec" {
                    command = "sleep 4"
                  }
                }
                """, cancellationToken)),
        };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.Slots = 3);
        await Eventually.HoldsAsync(() => coordinator.WaitingAcquisitions == 3, "the daemon holds three acquisition streams", TimeSpan.FromSeconds(30), cancellationToken);

        var jobs = Enumerable.Range(1, 4).Select(n => coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, n))).ToList();
        foreach (var job in jobs)
        {
            (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);
        }

        Assert.Equal(3, coordinator.MaxConcurrentJobs);
        var first = jobs.Take(3).ToList();
        var fourth = jobs[3];
        // The first three were all held at once: each was acquired before any of them finished.
        Assert.True(first.Max(job => job.AcquiredAt) < first.Min(job => job.FinishedAt), "the first three jobs did not overlap");
        // The fourth was handed out only once a slot was free again.
        Assert.True(fourth.AcquiredAt >= first.Min(job => job.FinishedAt), "the fourth job started before a slot was free");
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_JobCanceledDuringLongLocalExec_FailsCanceledWithPartialState()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob
        {
            Inline = ByteString.CopyFrom(await Templates.PackAsync("""
                resource "terraform_data" "fast" {}

                resource "terraform_data" "slow" {
                  depends_on = [terraform_data.fast]
                  provisioner "local-exec" {
                    command = "sleep 60"
                  }
                }
                """, cancellationToken)),
        };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output.Contains("(local-exec): Executing", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);
        job.Cancel();
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);

        Assert.Equal("canceled", failed.ErrorCode);
        Assert.Equal(Blob.ContentOneofCase.Inline, failed.WorkspaceBuild.State.ContentCase);
        Assert.Contains("terraform_data.fast", Templates.StateResources(failed.WorkspaceBuild.State.Inline));
        Assert.Contains(job.Logs, log => log.Output.Contains("Interrupt received", StringComparison.Ordinal));
        Assert.Equal("Cleaning up", job.Logs.Last(log => log.Source == LogSource.ProvisionerDaemon && log.Level == Sdk.Protocol.LogLevel.Info).Stage);
        await Eventually.HoldsAsync(() => daemon.Daemon.RunningJobs == 0, "the job is off the slot", TimeSpan.FromSeconds(10), cancellationToken);
        Assert.Equal(1, daemon.Daemon.Metrics.JobCount("workspace_build", "canceled"));
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_ApplyFails_FailsJobWithProvisionerErrorAndPartialState()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob
        {
            Inline = ByteString.CopyFrom(await Templates.PackAsync("""
                resource "terraform_data" "first" {}

                resource "terraform_data" "broken" {
                  depends_on = [terraform_data.first]
                  provisioner "local-exec" {
                    command = "exit 3"
                  }
                }
                """, cancellationToken)),
        };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);

        Assert.Equal("terraform_error", failed.ErrorCode);
        Assert.Contains("local-exec", failed.Error, StringComparison.Ordinal);
        Assert.Contains("terraform_data.first", Templates.StateResources(failed.WorkspaceBuild.State.Inline));
        Assert.Contains(job.Logs, log => log is { Source: LogSource.ProvisionerDaemon, Level: Sdk.Protocol.LogLevel.Error });
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_ArchiveIsNotATar_FailsTheJobAsAnInvalidTemplateArchive()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Import(new Blob { Inline = ByteString.CopyFromUtf8("this is not a tar archive, not even close ...") }));
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);

        Assert.Equal("invalid_template_archive", failed.ErrorCode);
        Assert.Contains("template archive", failed.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(FailedJob.TypeOneofCase.TemplateImport, failed.TypeCase);
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_RequiredVariableWithoutValue_FailsTheImportWithTheCoordinatorsReason()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob { Inline = ByteString.CopyFrom(await Templates.PackAsync("variable \"region\" {\n  type = string\n}\n", cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Import(archive));
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);

        Assert.Equal("coordinator_refused", failed.ErrorCode);
        Assert.Contains("Template variable 'region' is required", failed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(job.Logs, log => log.Stage == "Detecting persistent resources");
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_CoordinatorRefusesTheResults_FailsTheBuildKeepingItsState()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        coordinator.RefuseResults = true;
        var archive = new Blob { Inline = ByteString.CopyFrom(await Templates.PackAsync("resource \"terraform_data\" \"one\" {}\n", cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);

        Assert.Equal("coordinator_refused", failed.ErrorCode);
        Assert.Contains("malformed", failed.Error, StringComparison.Ordinal);
        Assert.Contains("terraform_data.one", Templates.StateResources(failed.WorkspaceBuild.State.Inline));
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_ProvisionerBehindAUnixSocket_RunsAWorkspaceBuildThroughIt()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var socketDirectory = Directory.CreateTempSubdirectory("provisioning-daemon-socket-");
        var terraformOptions = new Terraform.TerraformOptions { TerraformPath = Testing.TerraformRequirement.Require(), CacheDirectory = terraform.Directory };
        var installer = new Terraform.Binaries.TerraformInstaller(terraformOptions, new HttpClient(), Microsoft.Extensions.Logging.Abstractions.NullLogger<Terraform.Binaries.TerraformInstaller>.Instance);
        var resolver = new Terraform.Binaries.TerraformBinaryResolver(terraformOptions, installer, Microsoft.Extensions.Logging.Abstractions.NullLogger<Terraform.Binaries.TerraformBinaryResolver>.Instance);
        await using var server = new Sdk.Provisioners.ProvisionerGrpcServer(
            Path.Combine(socketDirectory.FullName, "terraform.sock"),
            new Terraform.TerraformProvisioner(terraformOptions, resolver, Microsoft.Extensions.Logging.Abstractions.NullLogger<Terraform.TerraformProvisioner>.Instance),
            new Sdk.Provisioners.ProvisionerSessionHostOptions { WorkDirectoryRoot = socketDirectory.FullName });
        await server.StartAsync(cancellationToken);
        using var remote = new UnixSocketDaemonProvisioner("terraform", server.SocketPath);
        var archive = new Blob { Inline = ByteString.CopyFrom(await Templates.PackAsync(WorkspaceTemplate, cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, provisioner: remote);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1, variables: ("greeting", "over-the-socket")));
        var built = (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText).WorkspaceBuild;

        Assert.Equal(["terraform_data.compute", "terraform_data.home"], Templates.StateResources(built.State.Inline).Order());
        Assert.Contains(job.Logs, log => log.Source == LogSource.Provisioner && log.Output.EndsWith("(local-exec): home says over-the-socket", StringComparison.Ordinal));
        AssertStagesInOrder(job, BuildStages);
        await server.StopAsync(cancellationToken);
        socketDirectory.Delete(recursive: true);
    }

    private static void AssertStagesInOrder(TestJob job, IReadOnlyList<string> expected)
    {
        var stageLines = job.Logs.Where(log => log.Source == LogSource.ProvisionerDaemon && log.Output == log.Stage).Select(log => log.Stage).ToList();
        Assert.True(expected.SequenceEqual(stageLines), $"Stage lines were [{string.Join(", ", stageLines)}].\n{job.LogText}");

        // Every line belongs to the latest stage line before it, and time never goes backwards.
        var current = "";
        Google.Protobuf.WellKnownTypes.Timestamp? previous = null;
        foreach (var log in job.Logs)
        {
            if (log.Source == LogSource.ProvisionerDaemon && log.Output == log.Stage)
            {
                current = log.Stage;
            }

            Assert.Equal(current, log.Stage);
            Assert.True(previous is null || previous <= log.CreatedAt, $"Logs out of order at '{log.Output}'.");
            previous = log.CreatedAt;
        }
    }
}
