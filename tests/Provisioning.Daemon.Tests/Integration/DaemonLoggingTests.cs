using System.Text.RegularExpressions;

using Google.Protobuf;

using Provisioning.Daemon.Tests.Support;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Daemon.Tests.Integration;

/// <summary>How job logs and heartbeats reach the coordinator: batches, order, heartbeats, and the offline bound.</summary>
[Collection(DaemonCollection.Name)]
public sealed partial class DaemonLoggingTests(TerraformCacheFixture terraform)
{
    [Fact(Timeout = 120_000)]
    public async Task Daemon_ManyLogLines_SendsEveryLineInOrderInBatchesOfAtMostLogFlushLines()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync("""
            resource "terraform_data" "chatty" {
              provisioner "local-exec" {
                command = "for i in $(seq 1 250); do echo line-$i; done"
              }
            }
            """, cancellationToken);
        // A small batch limit (the default is 2,000), so 250 lines need several batches.
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.LogFlushLines = 100);

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        var numbers = job.Logs.Select(log => NumberedLine().Match(log.Output)).Where(match => match.Success).Select(match => int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(1, 250), numbers);
        Assert.All(job.Updates, update => Assert.InRange(update.Logs.Count, 0, 100));
        Assert.Contains(job.Updates, update => update.Logs.Count == 100);
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_QuietJob_SendsEmptyUpdateJobsAsHeartbeats()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync("""
            resource "terraform_data" "quiet" {
              provisioner "local-exec" {
                command = "sleep 3"
              }
            }
            """, cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.HeartbeatInterval = TimeSpan.FromMilliseconds(500));

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        var heartbeats = job.Updates.Count(update => update.Logs.Count == 0 && update.TemplateVariables.Count == 0);
        Assert.True(heartbeats >= 2, $"only {heartbeats} heartbeats during a 3 s silent local-exec with a 500 ms interval");
    }

    [Fact(Timeout = 60_000)]
    public async Task Daemon_CoordinatorAsksForAShorterHeartbeat_UsesIt()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        coordinator.HeartbeatIntervalSeconds = 2;
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options => options.HeartbeatInterval = TimeSpan.FromSeconds(30));

        await Eventually.HoldsAsync(() => daemon.Daemon.IsReady, "the daemon registered", TimeSpan.FromSeconds(30), cancellationToken);

        Assert.Equal(TimeSpan.FromSeconds(2), daemon.Daemon.HeartbeatInterval);
    }

    [Fact(Timeout = 120_000)]
    public async Task Daemon_LinesBeyondTheOfflineBound_DropsTheOldestAndSaysHowMany()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = await InlineAsync("""
            resource "terraform_data" "chatty" {
              provisioner "local-exec" {
                command = "echo before; sleep 2; for i in $(seq 1 300); do echo line-$i; done"
              }
            }
            """, cancellationToken);
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, options =>
        {
            options.LogFlushLines = 10;
            options.OfflineLogBufferLines = 100;
        });

        var job = coordinator.Enqueue(Templates.Build(archive, WorkspaceTransition.Start, 1));
        await Eventually.HoldsAsync(() => job.Logs.Any(log => log.Output.EndsWith("(local-exec): before", StringComparison.Ordinal)), "the local-exec runs", TimeSpan.FromSeconds(60), cancellationToken);
        await coordinator.GoAwayAsync(TimeSpan.FromSeconds(5));
        (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        var notice = Assert.Single(job.Logs, log => log.Output.Contains("log lines were dropped while the coordinator was unreachable", StringComparison.Ordinal));
        Assert.Equal(LogSource.ProvisionerDaemon, notice.Source);
        var dropped = int.Parse(notice.Output.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        var numbers = job.Logs.Select(log => NumberedLine().Match(log.Output)).Where(match => match.Success).Select(match => int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(dropped >= 200, $"only {dropped} lines dropped with a bound of 100 and 300 lines while away");
        Assert.Contains(300, numbers);
        Assert.DoesNotContain(1, numbers);
        Assert.Equal(numbers.Order(), numbers);
    }

    [GeneratedRegex(@"\(local-exec\): line-(\d+)$")]
    private static partial Regex NumberedLine();

    private static async Task<Blob> InlineAsync(string mainTf, CancellationToken cancellationToken) =>
        new() { Inline = ByteString.CopyFrom(await Templates.PackAsync(mainTf, cancellationToken)) };
}
