using Hangfire.States;

using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Tests.Queueing;

public sealed class JobAcquirerTests(PostgresServerFixture server)
{
    // Long enough for a slow CI machine to hand a job over; a wait that must end empty is canceled after it.
    private static readonly TimeSpan NegativeWait = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan TestTimeout = QueueHarness.TestTimeout;

    private static CancellationTokenSource Timeout(TimeSpan? after = null) => QueueHarness.Timeout(after);

    [Fact]
    public async Task AcquireAsync_JobAlreadyQueued_ReturnsItRunningOnTheDaemon()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var daemon = harness.Daemon("d1");
        using var timeout = Timeout();

        var acquired = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);

        Assert.NotNull(acquired);
        Assert.Equal(job.Id, acquired.Id);
        Assert.Equal(daemon.Id, acquired.WorkerId);
        Assert.Equal(ProvisionerJobStatus.Running, acquired.Status);
        // The claim and the Processing state are one statement: the dashboard shows it as soon as the daemon has it.
        Assert.Equal(ProcessingState.StateName, harness.HangfireState(job.HangfireJobId!));
    }

    [Fact]
    public async Task AcquireAsync_TaggedJob_GoesOnlyToADaemonWhoseTagsContainItsTags()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        await harness.Queue.EnqueueAsync(QueueHarness.Job(("region", "eu")), TestContext.Current.CancellationToken);
        using var negative = Timeout(NegativeWait);
        using var timeout = Timeout();

        var wrongRegion = harness.Acquirer.AcquireAsync(harness.Daemon("us", ("region", "us")), negative.Token);
        var untagged = harness.Acquirer.AcquireAsync(harness.Daemon("plain"), negative.Token);
        Assert.Null(await wrongRegion);
        Assert.Null(await untagged);
        var superset = await harness.Acquirer.AcquireAsync(harness.Daemon("eu-gpu", ("region", "eu"), ("gpu", "true")), timeout.Token);

        Assert.NotNull(superset);
        Assert.Equal("eu", superset.Tags["region"]);
    }

    [Fact]
    public async Task AcquireAsync_UntaggedJob_GoesOnlyToAnUntaggedDaemon()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        using var negative = Timeout(NegativeWait);
        using var timeout = Timeout();

        var tagged = await harness.Acquirer.AcquireAsync(harness.Daemon("eu", ("region", "eu")), negative.Token);
        var untagged = await harness.Acquirer.AcquireAsync(harness.Daemon("plain"), timeout.Token);

        Assert.Null(tagged);
        Assert.Equal(job.Id, untagged?.Id);
    }

    [Fact]
    public async Task AcquireAsync_TwentyWaitersOneJob_ExactlyOneGetsIt()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        await harness.Ledger.EnsureQueueAsync("terraform", new Dictionary<string, string>(), TestContext.Current.CancellationToken);
        using var stopWaiting = Timeout(TestTimeout);
        var daemons = Enumerable.Range(0, 20).Select(index => harness.Daemon($"d{index}")).ToList();
        var waits = daemons.Select(daemon => harness.Acquirer.AcquireAsync(daemon, stopWaiting.Token)).ToList();

        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(waits).WaitAsync(TestTimeout, TestContext.Current.CancellationToken);
        var winner = await first;
        await Task.Delay(NegativeWait, TestContext.Current.CancellationToken);
        await stopWaiting.CancelAsync();
        var results = await Task.WhenAll(waits);

        Assert.NotNull(winner);
        Assert.Equal(job.Id, winner.Id);
        Assert.Single(results, result => result is not null);
        var stored = await harness.Ledger.GetAsync(job.Id, TestContext.Current.CancellationToken);
        Assert.Equal(winner.WorkerId, stored!.WorkerId);
        Assert.Contains(daemons, daemon => daemon.Id == stored.WorkerId);
    }

    [Fact]
    public async Task AcquireAsync_TwentyJobsTwentyWaiters_EachJobGoesToOneDaemon()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        using var timeout = Timeout();
        var daemons = Enumerable.Range(0, 20).Select(index => harness.Daemon($"d{index}", ("pool", "a"))).ToList();
        var waits = daemons.Select(daemon => harness.Acquirer.AcquireAsync(daemon, timeout.Token)).ToList();

        var jobs = new List<ProvisionerJob>();
        for (var index = 0; index < 20; index++)
        {
            jobs.Add(await harness.Queue.EnqueueAsync(QueueHarness.Job(("pool", "a")), TestContext.Current.CancellationToken));
        }

        var results = await Task.WhenAll(waits);

        Assert.All(results, Assert.NotNull);
        Assert.Equal(jobs.Select(job => job.Id).Order(), results.Select(result => result!.Id).Order());
        Assert.Equal(20, results.Select(result => result!.WorkerId).Distinct().Count());
    }

    [Fact]
    public async Task AcquireAsync_BacklogLargerThanABatchAndMoreWaitersThanABatch_EachJobGoesToOneDaemonOldestFirst()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        using var timeout = Timeout();
        var waiterCount = AcquisitionDomain.MaxBatch + 8;
        var jobs = new List<ProvisionerJob>();
        for (var index = 0; index < waiterCount + 10; index++)
        {
            jobs.Add(await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken));
        }

        var daemons = Enumerable.Range(0, waiterCount).Select(index => harness.Daemon($"d{index}")).ToList();
        var results = await Task.WhenAll(daemons.Select(daemon => harness.Acquirer.AcquireAsync(daemon, timeout.Token)));

        Assert.All(results, Assert.NotNull);
        // The oldest jobs go first; the ten newest are still pending and still enqueued in Hangfire.
        Assert.Equal(jobs.Take(waiterCount).Select(job => job.Id).Order(), results.Select(result => result!.Id).Order());
        Assert.Equal(waiterCount, results.Select(result => result!.WorkerId).Distinct().Count());
        Assert.Equal(10, harness.Storage.GetMonitoringApi().EnqueuedCount(jobs[0].Queue));
        foreach (var job in jobs.Skip(waiterCount))
        {
            Assert.Equal(ProvisionerJobStatus.Pending, (await harness.Ledger.GetAsync(job.Id, TestContext.Current.CancellationToken))!.Status);
        }
    }

    [Fact]
    public async Task AcquireAsync_TwoReplicasOnOneDatabase_EachJobGoesToExactlyOneDaemon()
    {
        // No periodic refresh within the test: a queue one replica creates reaches the other by NOTIFY only.
        var options = new JobAcquirerOptions { QueueRefreshInterval = TimeSpan.FromHours(1) };
        await using var first = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken, options);
        await using var second = first.CreateReplica(options);
        using var stopWaiting = Timeout();
        var waits = Enumerable.Range(0, 16)
            .Select(index => (index % 2 == 0 ? first : second).Acquirer.AcquireAsync(first.Daemon($"d{index}", ("pool", "shared")), stopWaiting.Token))
            .ToList();

        var jobs = new List<ProvisionerJob>();
        for (var index = 0; index < 10; index++)
        {
            jobs.Add(await (index % 2 == 0 ? second : first).Queue.EnqueueAsync(QueueHarness.Job(("pool", "shared")), TestContext.Current.CancellationToken));
        }

        var acquired = new List<ProvisionerJob>();
        var pending = waits.ToList();
        while (acquired.Count < jobs.Count)
        {
            var done = await Task.WhenAny(pending).WaitAsync(TestTimeout, TestContext.Current.CancellationToken);
            pending.Remove(done);
            acquired.Add((await done)!);
        }

        await Task.Delay(NegativeWait, TestContext.Current.CancellationToken);
        await stopWaiting.CancelAsync();
        var rest = await Task.WhenAll(pending);

        Assert.All(rest, Assert.Null);
        Assert.Equal(jobs.Select(job => job.Id).Order(), acquired.Select(job => job.Id).Order());
        Assert.Equal(jobs.Count, acquired.Select(job => job.WorkerId).Distinct().Count());
    }

    [Fact]
    public async Task AcquireAsync_CanceledPendingJob_IsSkippedAndDeletedInHangfire()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var canceled = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var next = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await harness.Queue.CancelAsync(canceled.Id, TestContext.Current.CancellationToken);
        using var timeout = Timeout();

        var acquired = await harness.Acquirer.AcquireAsync(harness.Daemon("d1"), timeout.Token);

        Assert.Equal(next.Id, acquired?.Id);
        Assert.Equal(DeletedState.StateName, harness.HangfireState(canceled.HangfireJobId!));
        Assert.Equal(ProvisionerJobStatus.Canceled, (await harness.Ledger.GetAsync(canceled.Id, TestContext.Current.CancellationToken))!.Status);
    }

    [Fact]
    public async Task AcquireAsync_QueueCreatedWhileDaemonWaits_DaemonIsReroutedAndGetsTheJob()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        using var timeout = Timeout();
        var waiting = harness.Acquirer.AcquireAsync(harness.Daemon("eu", ("region", "eu")), timeout.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);

        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(("region", "eu")), TestContext.Current.CancellationToken);
        var acquired = await waiting;

        Assert.Equal(job.Id, acquired?.Id);
    }

    [Fact]
    public async Task AcquireAsync_WaitCanceled_ReturnsNullAndLeavesTheJobPending()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(("region", "eu")), TestContext.Current.CancellationToken);
        using var canceled = Timeout(TimeSpan.FromMilliseconds(500));

        var acquired = await harness.Acquirer.AcquireAsync(harness.Daemon("us", ("region", "us")), canceled.Token);

        Assert.Null(acquired);
        Assert.Equal(ProvisionerJobStatus.Pending, (await harness.Ledger.GetAsync(job.Id, TestContext.Current.CancellationToken))!.Status);
        Assert.Equal(EnqueuedState.StateName, harness.HangfireState(job.HangfireJobId!));
    }

    [Fact]
    public async Task CompleteAndFail_HeldJobs_MoveTheirHangfireJobsToFinalStates()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var daemon = harness.Daemon("d1");
        await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        using var timeout = Timeout();
        var first = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);
        var second = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);

        await harness.Queue.CompleteAsync(first!.Id, daemon.Id, TestContext.Current.CancellationToken);
        await harness.Queue.FailAsync(second!.Id, daemon.Id, "terraform apply failed", "terraform_error", TestContext.Current.CancellationToken);

        Assert.Equal(SucceededState.StateName, harness.HangfireState(first.HangfireJobId!));
        Assert.Equal(FailedState.StateName, harness.HangfireState(second.HangfireJobId!));
    }

    [Fact]
    public async Task PublishMissingAsync_JobInsertedWithoutEnqueue_BecomesAcquirable()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var job = await harness.Ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        using var timeout = Timeout();

        var published = await harness.Queue.PublishMissingAsync(TimeSpan.Zero, TestContext.Current.CancellationToken);
        var again = await harness.Queue.PublishMissingAsync(TimeSpan.Zero, TestContext.Current.CancellationToken);
        var acquired = await harness.Acquirer.AcquireAsync(harness.Daemon("d1"), timeout.Token);

        Assert.Equal(1, published);
        Assert.Equal(0, again);
        Assert.Equal(job.Id, acquired?.Id);
    }
}
