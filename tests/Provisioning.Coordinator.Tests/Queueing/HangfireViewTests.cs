using Dapper;

using Hangfire;
using Hangfire.States;

using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Tests.Queueing;

/// <summary>
/// The queue writes Hangfire.PostgreSql's rows itself (HangfireJobRows); these tests read them back through
/// Hangfire's own storage and monitoring APIs, the ones the dashboard uses, so a schema or format that drifts
/// from what Hangfire expects fails here.
/// </summary>
public sealed class HangfireViewTests(PostgresServerFixture server)
{
    private static CancellationTokenSource Timeout() => QueueHarness.Timeout();

    [Fact]
    public async Task EnqueueAsync_HangfireReadsAnEnqueuedMarkerJobForTheLedgerJob()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);

        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(("region", "eu")), TestContext.Current.CancellationToken);

        using var connection = harness.Storage.GetConnection();
        var data = connection.GetJobData(job.HangfireJobId!);
        Assert.NotNull(data);
        Assert.Null(data.LoadException);
        Assert.Equal(typeof(ProvisionerJobMarker), data.Job.Type);
        Assert.Equal(nameof(ProvisionerJobMarker.Run), data.Job.Method.Name);
        Assert.Equal([job.Id], data.Job.Args);
        Assert.Equal(EnqueuedState.StateName, data.State);
        var monitoring = harness.Storage.GetMonitoringApi();
        Assert.Equal(1, monitoring.EnqueuedCount(job.Queue));
        var listed = Assert.Single(monitoring.EnqueuedJobs(job.Queue, 0, 10));
        Assert.Equal(job.HangfireJobId, listed.Key);
        Assert.Equal(job.HangfireJobId, (await harness.Ledger.GetAsync(job.Id, TestContext.Current.CancellationToken))!.HangfireJobId);
    }

    [Fact]
    public async Task AcquireAsync_HangfireShowsTheDaemonAsTheProcessingServer()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var daemon = harness.Daemon("builder-7");
        using var timeout = Timeout();

        var acquired = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);

        Assert.Equal(job.Id, acquired?.Id);
        var monitoring = harness.Storage.GetMonitoringApi();
        var processing = Assert.Single(monitoring.ProcessingJobs(0, 10));
        Assert.Equal(job.HangfireJobId, processing.Key);
        Assert.Equal("builder-7", processing.Value.ServerId);
        Assert.NotNull(processing.Value.StartedAt);
        Assert.Equal(0, monitoring.EnqueuedCount(job.Queue));
    }

    [Fact]
    public async Task EndedJobs_HangfireCountsThemKeepsTheirHistoryAndExpiresThem()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var daemon = harness.Daemon("d1");
        using var timeout = Timeout();
        await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var succeeded = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);
        var failed = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);
        var canceled = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);

        await harness.Queue.CompleteAsync(succeeded!.Id, daemon.Id, TestContext.Current.CancellationToken);
        await harness.Queue.FailAsync(failed!.Id, daemon.Id, "terraform apply failed: boom", "terraform_error", TestContext.Current.CancellationToken);
        await harness.Queue.CancelAsync(canceled.Id, TestContext.Current.CancellationToken);
        // A repeated report changes nothing in the ledger and must not count twice in Hangfire.
        await harness.Queue.CompleteAsync(succeeded.Id, daemon.Id, TestContext.Current.CancellationToken);

        var monitoring = harness.Storage.GetMonitoringApi();
        var statistics = monitoring.GetStatistics();
        Assert.Equal(1, statistics.Succeeded);
        Assert.Equal(1, statistics.Failed);
        Assert.Equal(1, statistics.Deleted);
        Assert.Equal(0, statistics.Enqueued);
        Assert.Equal(0, statistics.Processing);
        Assert.Equal(1, monitoring.SucceededByDatesCount().Values.Sum());
        Assert.Equal(1, monitoring.FailedByDatesCount().Values.Sum());

        var succeededDetails = monitoring.JobDetails(succeeded.HangfireJobId!);
        Assert.Equal([SucceededState.StateName, ProcessingState.StateName, EnqueuedState.StateName], succeededDetails.History.Select(state => state.StateName));
        Assert.NotNull(succeededDetails.ExpireAt);
        var failure = Assert.Single(monitoring.FailedJobs(0, 10));
        Assert.Equal(failed.HangfireJobId, failure.Key);
        Assert.Contains("boom", failure.Value.ExceptionMessage, StringComparison.Ordinal);
        Assert.Equal("terraform_error", failure.Value.Reason);
        var deleted = monitoring.JobDetails(canceled.HangfireJobId!);
        Assert.Equal([DeletedState.StateName, EnqueuedState.StateName], deleted.History.Select(state => state.StateName));
        Assert.Equal(0, monitoring.EnqueuedCount(canceled.Queue));
    }

    [Fact]
    public async Task EnqueuedAgainThroughHangfire_EndedJob_IsTakenOutOfViewAndNotHandedOut()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var daemon = harness.Daemon("d1");
        using var timeout = Timeout();
        await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var done = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);
        await harness.Queue.CompleteAsync(done!.Id, daemon.Id, TestContext.Current.CancellationToken);

        // Hangfire's own API (as the dashboard uses it) and its own NOTIFY, on the job's provisioner queue.
        Assert.True(new BackgroundJobClient(harness.Storage).ChangeState(done.HangfireJobId!, new EnqueuedState(done.Queue)));
        var next = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var acquired = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);

        Assert.Equal(next.Id, acquired?.Id);
        Assert.Equal(DeletedState.StateName, harness.HangfireState(done.HangfireJobId!));
        Assert.Equal(ProvisionerJobStatus.Succeeded, (await harness.Ledger.GetAsync(done.Id, TestContext.Current.CancellationToken))!.Status);
        Assert.Equal(0, harness.Storage.GetMonitoringApi().EnqueuedCount(done.Queue));
    }

    [Fact]
    public async Task ForeignHangfireJobOnAProvisionerQueue_IsRemovedNotHandedOut()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var first = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var daemon = harness.Daemon("d1");
        using var timeout = Timeout();
        await harness.Queue.CompleteAsync((await harness.Acquirer.AcquireAsync(daemon, timeout.Token))!.Id, daemon.Id, TestContext.Current.CancellationToken);
        var foreign = new BackgroundJobClient(harness.Storage).Create(() => Console.WriteLine("not a provisioner job"), new EnqueuedState(first.Queue));
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);

        var acquired = await harness.Acquirer.AcquireAsync(daemon, timeout.Token);

        Assert.Equal(job.Id, acquired?.Id);
        Assert.Equal(DeletedState.StateName, harness.HangfireState(foreign));
        Assert.Equal(0, harness.Storage.GetMonitoringApi().EnqueuedCount(first.Queue));
    }

    [Fact]
    public async Task PublishAsync_CallersTransactionRolledBack_LeavesNoHangfireJob()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var cancellationToken = TestContext.Current.CancellationToken;
        var queue = await harness.Ledger.EnsureQueueAsync("terraform", new Dictionary<string, string>(), cancellationToken);

        await using (var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var inserted = await harness.Ledger.InsertAsync(connection, transaction, QueueHarness.Job(), cancellationToken);
            var published = await harness.Queue.PublishAsync(connection, transaction, inserted, cancellationToken);
            Assert.NotNull(published.HangfireJobId);
            await transaction.RollbackAsync(cancellationToken);
        }

        await using var check = await harness.DataSource.OpenConnectionAsync(cancellationToken);
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.jobqueue"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM provisioner_jobs"));
        Assert.Equal(0, harness.Storage.GetMonitoringApi().EnqueuedCount(queue.Name));
    }

    [Fact]
    public async Task ReleaseAsync_ClaimedJob_IsEnqueuedAgainAndAcquirable()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var first = harness.Daemon("d1");
        var second = harness.Daemon("d2");
        using var timeout = Timeout();
        await harness.Acquirer.AcquireAsync(first, timeout.Token);

        var released = await harness.Queue.ReleaseAsync(job.Id, first.Id, TestContext.Current.CancellationToken);
        var enqueuedAgain = harness.HangfireState(job.HangfireJobId!);
        var acquired = await harness.Acquirer.AcquireAsync(second, timeout.Token);

        Assert.Equal(ProvisionerJobStatus.Pending, released?.Status);
        Assert.Equal(EnqueuedState.StateName, enqueuedAgain);
        Assert.Equal(job.Id, acquired?.Id);
        Assert.Equal(second.Id, acquired?.WorkerId);
        Assert.Equal(ProcessingState.StateName, harness.HangfireState(job.HangfireJobId!));
    }

    [Fact]
    public async Task Constructor_HangfireSchemaOfAnotherVersion_FailsNamingBothVersions()
    {
        await using var harness = await QueueHarness.CreateAsync(server, TestContext.Current.CancellationToken);
        await using (var connection = await harness.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken))
        {
            await connection.ExecuteAsync("UPDATE hangfire.schema SET version = 99");
        }

        var exception = Assert.Throws<InvalidOperationException>(() => new ProvisionerJobQueue(harness.Storage, harness.Ledger, NullLogger<ProvisionerJobQueue>.Instance));

        Assert.Contains("version 99", exception.Message, StringComparison.Ordinal);
        Assert.Contains("version 23", exception.Message, StringComparison.Ordinal);
    }
}
