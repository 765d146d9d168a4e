using Google.Protobuf;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Hosting;
using Provisioning.Daemon.Tests.Support;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;
using Provisioning.Testing;

namespace Provisioning.Daemon.Tests.Integration;

/// <summary>Connection loss, terminal-report retries, credentials, drain and shutdown, against the <see cref="TestCoordinator"/>.</summary>
[Collection(DaemonCollection.Name)]
public sealed partial class DaemonLifecycleTests(TerraformCacheFixture terraform)
{
    private const string SleepTemplate = """
        resource "terraform_data" "fast" {}

        resource "terraform_data" "slow" {
          depends_on = [terraform_data.fast]
          provisioner "local-exec" {
            command = "echo before; sleep 4; for i in 1 2 3 4 5; do echo after-$i; done"
          }
        }
        """;

    [Fact(Timeout = 120_000)]
    public async Task Daemon_CoordinatorRefusesCompleteTwice_RetriesUntilAcknowledged()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync("resource \"terraform_data\" \"one\" {}", cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);
        coordinator.RefuseTerminalReports(2);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        var completed = (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        Assert.Equal(3, job.TerminalCalls);
        Assert.Contains("terraform_data.one", Templates.StateResources(completed.WorkspaceBuild.State.Inline));
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_CoordinatorGoneDuringJob_KeepsLogsAndCompletesAfterReconnect()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync(SleepTemplate, cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output.EndsWith("(local-exec): before", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);
        var outage = coordinator.GoAwayAsync(TimeSpan.FromSeconds(3));
        await Eventually.HoldsAsync(() => !daemon.Daemon.IsReady, "the daemon notices the coordinator is gone", TimeSpan.FromSeconds(3), cancellationToken);
        await outage;
        var completed = (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        Assert.Contains("terraform_data.slow", Templates.StateResources(completed.WorkspaceBuild.State.Inline));
        var after = job.Logs.Select(log => AfterLine().Match(log.Output)).Where(match => match.Success).Select(match => match.Groups[1].Value).Distinct().ToList();
        Assert.Equal(["after-1", "after-2", "after-3", "after-4", "after-5"], after);
        Assert.Equal("Cleaning up", job.Logs[^1].Stage);
        await Eventually.HoldsAsync(() => daemon.Daemon.IsReady, "the daemon is ready again", TimeSpan.FromSeconds(10), cancellationToken);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_CoordinatorStartsAfterTheDaemon_RegistersAfterBackoffAndRunsJobs()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var port = TestCoordinator.FreePort();
        await using var daemon = DaemonHarness.Start(new Uri($"http://127.0.0.1:{port}"), terraform.Directory);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        Assert.False(daemon.Daemon.IsReady);
        Assert.False(daemon.Run.IsCompleted);

        await using var coordinator = await TestCoordinator.StartAsync(port);
        var job = coordinator.Enqueue(Templates.Build(await InlineAsync("resource \"terraform_data\" \"one\" {}", cancellationToken), WorkspaceTransition.Start, 1));
        (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        var registration = Assert.Single(coordinator.Registrations);
        Assert.Equal(daemon.Options.Name, registration.Daemon.Name);
        Assert.Equal(["terraform"], registration.Daemon.Provisioners);
        Assert.Equal(1, registration.Daemon.Slots);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_CredentialsRefused_StopsWithAClearErrorAndTheAuthenticationExitCode()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.PreSharedKey = "wrong");

        var exception = await Assert.ThrowsAsync<ProvisionerDaemonException>(() => daemon.Run.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken));

        Assert.Equal(ProvisionerDaemonException.AuthenticationExitCode, exception.ExitCode);
        Assert.Contains("refused the daemon's pre-shared key (--psk)", exception.Message, StringComparison.Ordinal);
        Assert.Contains("PermissionDenied", exception.Message, StringComparison.Ordinal);
        Assert.Empty(coordinator.Registrations);
        Assert.False(daemon.Daemon.IsAlive);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_ProvisionerUnusable_StopsBeforeRegisteringWithTheProvisionerExitCode()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var broken = new InProcessDaemonProvisioner("broken", new StubbornProvisioner(), _ => throw new InvalidOperationException("terraform 0.11 is too old; install 1.5 or later"));
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, provisioner: broken);

        var exception = await Assert.ThrowsAsync<ProvisionerDaemonException>(() => daemon.Run.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken));

        Assert.Equal(ProvisionerDaemonException.ProvisionerExitCode, exception.ExitCode);
        Assert.Contains("The broken provisioner cannot run", exception.Message, StringComparison.Ordinal);
        Assert.Contains("install 1.5 or later", exception.Message, StringComparison.Ordinal);
        Assert.Empty(coordinator.Registrations);
    }

    [Fact(Timeout = 60_000)]
    public async Task HostedDaemon_CredentialsRefused_StopsTheHostWithTheAuthenticationExitCode()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var cache = Directory.CreateTempSubdirectory("provisioning-daemon-hosted-").FullName;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.AddProvisionerDaemon(options =>
        {
            options.CoordinatorUrl = coordinator.Address;
            options.PreSharedKey = "wrong";
            options.CacheDirectory = cache;
            options.TerraformPath = TerraformRequirement.Require();
        });
        builder.Logging.ClearProviders();
        using var host = builder.Build();
        var daemon = host.Services.GetRequiredService<ProvisionerDaemon>();
        var previousExitCode = Environment.ExitCode;
        try
        {
            await host.RunAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(45), cancellationToken);

            Assert.Equal(ProvisionerDaemonException.AuthenticationExitCode, Environment.ExitCode);
            Assert.False(daemon.IsAlive);
        }
        finally
        {
            Environment.ExitCode = previousExitCode;
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task HostedDaemon_HostStops_DrainsTheDaemonAndCancelsItsWaitingAcquisition()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var cache = Directory.CreateTempSubdirectory("provisioning-daemon-hosted-").FullName;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.AddProvisionerDaemon(options =>
        {
            options.CoordinatorUrl = coordinator.Address;
            options.PreSharedKey = TestCoordinator.Psk;
            options.CacheDirectory = cache;
            options.TerraformPath = TerraformRequirement.Require();
        });
        using var host = builder.Build();
        var daemon = host.Services.GetRequiredService<ProvisionerDaemon>();
        try
        {
            await host.StartAsync(cancellationToken);
            await Eventually.HoldsAsync(() => coordinator.WaitingAcquisitions == 1, "the hosted daemon waits for a job", TimeSpan.FromSeconds(30), cancellationToken);

            await host.StopAsync(cancellationToken);

            Assert.Equal(1, coordinator.CanceledAcquisitions);
            Assert.False(daemon.IsAlive);
            Assert.Equal(Environment.MachineName, Assert.Single(coordinator.Registrations).Daemon.Name);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_DrainDuringJob_FinishesTheJobAndTakesNoNewOne()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync(SleepTemplate, cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var running = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => running.Logs.Any(log => log.Output.EndsWith("(local-exec): before", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);
        var drain = daemon.Daemon.DrainAsync(cancellationToken);
        var waiting = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await drain;

        await daemon.Run.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        var completed = (await running.WaitAsync(cancellationToken)).RequireCompleted(running.LogText);
        Assert.Contains("terraform_data.slow", Templates.StateResources(completed.WorkspaceBuild.State.Inline));
        Assert.Null(waiting.AcquiredAt);
        Assert.Equal(0, coordinator.WaitingAcquisitions);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_DrainWhileIdle_CancelsEveryWaitingAcquisitionAndStops()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.Slots = 2);
        await Eventually.HoldsAsync(() => coordinator.WaitingAcquisitions == 2, "both slots wait for a job", TimeSpan.FromSeconds(30), cancellationToken);
        Assert.True(daemon.Daemon.IsReady);

        await daemon.Daemon.DrainAsync(cancellationToken);

        await daemon.Run.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        Assert.Equal(2, coordinator.CanceledAcquisitions);
        Assert.Equal(0, coordinator.WaitingAcquisitions);
        Assert.False(daemon.Daemon.IsReady);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_DrainWhileRegisterCallHangs_StopsCleanlyWithoutAnError()
    {
        // Arrange: a "coordinator" that accepts TCP connections and never answers, so Register stays in flight.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<System.Net.Sockets.Socket>();
        var accepting = Task.Run(async () =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                accepted.Add(await silent.AcceptSocketAsync(cancellationToken));
            }
        }, cancellationToken);
        var address = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}");
        await using var daemon = DaemonHarness.Start(address, terraform.Directory);
        await Eventually.HoldsAsync(() => accepted.Count > 0, "the daemon connects to register", TimeSpan.FromSeconds(30), cancellationToken);

        // Act
        await daemon.Daemon.DrainAsync(cancellationToken);

        // Assert: the run ends without an exception (a canceled Register is a stop, not a crash).
        await daemon.Run.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        Assert.False(daemon.Daemon.IsReady);
        foreach (var socket in accepted)
        {
            socket.Dispose();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_ShutdownDuringJob_CancelsItAndReportsPartialStateBeforeExiting()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync(SleepTemplate.Replace("sleep 4", "sleep 60", StringComparison.Ordinal), cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output.EndsWith("(local-exec): before", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);
        await daemon.Daemon.ShutdownAsync(cancellationToken);

        await daemon.Run.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        Assert.True(job.IsFinished, "the daemon exited before its terminal report was acknowledged");
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);
        Assert.Equal("canceled", failed.ErrorCode);
        Assert.Contains("terraform_data.fast", Templates.StateResources(failed.WorkspaceBuild.State.Inline));
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_DrainOutlastsTheDrainTimeout_CancelsTheJobGracefullyAndReportsItsPartialState()
    {
        // Arrange: a job whose second resource sleeps a minute, and a drain timeout of one second.
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync(SleepTemplate.Replace("sleep 4", "sleep 60", StringComparison.Ordinal), cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.DrainTimeout = TimeSpan.FromSeconds(1));
        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output.EndsWith("(local-exec): before", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);

        // Act
        await daemon.Daemon.DrainAsync(cancellationToken);

        // Assert: the drain ended the job as canceled, with the state of the resource created before.
        await daemon.Run.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        Assert.True(job.IsFinished, "the daemon stopped before its terminal report was acknowledged");
        var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);
        Assert.Equal("canceled", failed.ErrorCode);
        Assert.Contains("terraform_data.fast", Templates.StateResources(failed.WorkspaceBuild.State.Inline));
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_ShutdownTimeoutPassesBeforeTheReportIsAcknowledged_KeepsTheReportAndItsStateSpooled()
    {
        // Arrange: a running job, then a coordinator that answers every terminal report with Unavailable.
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync(SleepTemplate.Replace("sleep 4", "sleep 60", StringComparison.Ordinal), cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.ShutdownTimeout = TimeSpan.FromSeconds(8));
        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output.EndsWith("(local-exec): before", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);
        coordinator.RefuseTerminalReports(int.MaxValue);

        // Act: SIGINT; the daemon gives up on the report at the shutdown timeout.
        await daemon.Daemon.ShutdownAsync(cancellationToken);
        await daemon.Run.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);

        // Assert: the canceled job's report and partial state are on disk for the next start, not given up as refused.
        Assert.False(job.IsFinished);
        var entry = Path.Combine(daemon.Options.ReportsDirectory, job.Id);
        Assert.True(File.Exists(Path.Combine(entry, "failed.pb")), $"Nothing spooled in {entry}.");
        Assert.Contains("terraform_data.fast", Templates.StateResources(ByteString.CopyFrom(await File.ReadAllBytesAsync(Path.Combine(entry, "state"), cancellationToken))));
        Assert.False(Directory.Exists(daemon.Options.UnacceptedDirectory), "A report that got no answer was treated as refused.");
    }

    [Fact(Timeout = 60_000)]
    public void HostedDaemon_DrainTimeout_HostShutdownTimeoutCoversTheDrainAndTheReportsAfterIt()
    {
        // The generic host's default shutdown timeout (30 s) used to end a SIGTERM drain after 30 s.
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.AddProvisionerDaemon(options =>
        {
            options.CoordinatorUrl = new Uri("http://127.0.0.1:1");
            options.PreSharedKey = TestCoordinator.Psk;
            options.DrainTimeout = TimeSpan.FromHours(3);
            options.ShutdownTimeout = TimeSpan.FromMinutes(2);
        });
        using var host = builder.Build();

        var shutdownTimeout = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostOptions>>().Value.ShutdownTimeout;

        Assert.True(
            shutdownTimeout >= TimeSpan.FromHours(3) + TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(15),
            $"The host gives up after {shutdownTimeout}, before the daemon's drain (3 h) and the reports after it (2 min) could end.");
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_CoordinatorRefusesTheReportForGood_KeepsTheReportAndStateUnderUnaccepted()
    {
        // Arrange
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        coordinator.RefuseReportsForGood = Grpc.Core.StatusCode.NotFound;
        var archive = await InlineAsync("resource \"terraform_data\" \"kept\" {}", cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory);

        // Act
        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        var kept = Path.Combine(daemon.Options.UnacceptedDirectory, job.Id);
        await Eventually.HoldsAsync(() => File.Exists(Path.Combine(kept, "reason.txt")), "the refused report is kept", TimeSpan.FromSeconds(60), cancellationToken);

        // Assert: the state Terraform wrote is on disk, owner-only, with the reason; nothing is left to re-send.
        Assert.Contains("terraform_data.kept", Templates.StateResources(ByteString.CopyFrom(await File.ReadAllBytesAsync(Path.Combine(kept, "state"), cancellationToken))));
        Assert.True(File.Exists(Path.Combine(kept, "completed.pb")));
        Assert.Contains("NotFound", await File.ReadAllTextAsync(Path.Combine(kept, "reason.txt"), cancellationToken), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(kept, "state")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(kept));
        }

        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_ProvisionerIgnoresCancel_FailsTheJobItselfAfterTheForceTimeout()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var stubborn = new StubbornProvisioner();
        var archive = await InlineAsync("# nothing", cancellationToken);
        await using var daemon = DaemonHarness.Start(
            coordinator.Address, terraform.Directory, options => options.ForceCancelTimeout = TimeSpan.FromSeconds(1), new InProcessDaemonProvisioner("stubborn", stubborn));
        try
        {
            var build = Templates.Build(archive, WorkspaceTransition.Start, 1);
            build.Provisioner = "stubborn";
            var job = coordinator.Enqueue(build);
            await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output == "stuck: ignoring cancellation"), "the apply is stuck", TimeSpan.FromSeconds(30), cancellationToken);
            job.Cancel();
            var failed = (await job.WaitAsync(cancellationToken)).RequireFailed(job.LogText);

            Assert.Equal("canceled", failed.ErrorCode);
            Assert.Contains("did not stop within 00:00:01", failed.Error, StringComparison.Ordinal);
            await Eventually.HoldsAsync(() => daemon.Daemon.RunningJobs == 0, "the job is off the slot", TimeSpan.FromSeconds(10), cancellationToken);
            Assert.Equal(1, daemon.Daemon.Metrics.JobCount("workspace_build", "canceled"));
        }
        finally
        {
            stubborn.Release();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_JobForAProvisionerItDoesNotOffer_FailsItAsUnsupportedNamingTheFlag()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync("# nothing", cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, provisioner: new InProcessDaemonProvisioner("stubborn", new StubbornProvisioner()));
        var build = Templates.Build(archive, WorkspaceTransition.Start, 1);
        build.Provisioner = "echo";

        var failed = (await coordinator.Enqueue(build).WaitAsync(cancellationToken)).RequireFailed("");

        Assert.Equal("unsupported_job", failed.ErrorCode);
        Assert.Contains("does not offer the 'echo' provisioner the job needs; start one with --provisioner echo=PATH", failed.Error, StringComparison.Ordinal);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\(local-exec\): (after-\d)$")]
    private static partial System.Text.RegularExpressions.Regex AfterLine();

    private static async Task<Blob> InlineAsync(string mainTf, CancellationToken cancellationToken) =>
        new() { Inline = ByteString.CopyFrom(await Templates.PackAsync(mainTf, cancellationToken)) };
}
