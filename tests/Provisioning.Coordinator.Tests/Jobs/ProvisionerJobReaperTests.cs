using Dapper;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Tests.Queueing;

namespace Provisioning.Coordinator.Tests.Jobs;

public sealed class ProvisionerJobReaperTests(PostgresServerFixture server)
{
    [Fact]
    public async Task ReapAsync_HungAndStaleJobs_AreFailedAndLiveOnesKept()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var harness = await QueueHarness.CreateAsync(server, cancellationToken);
        var ledger = harness.Ledger;
        var daemon = Guid.NewGuid();
        var hung = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        var alive = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        var stale = await ledger.InsertAsync(QueueHarness.Job(("region", "mars")), cancellationToken);
        var fresh = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        await ledger.ClaimThroughQueueAsync(hung, daemon, cancellationToken);
        await ledger.ClaimThroughQueueAsync(alive, daemon, cancellationToken);
        await using (var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await connection.ExecuteAsync("UPDATE provisioner_jobs SET updated_at = now() - interval '10 minutes' WHERE id = @Id", new { hung.Id });
            await connection.ExecuteAsync("UPDATE provisioner_jobs SET created_at = now() - interval '2 hours' WHERE id = @Id", new { stale.Id });
        }

        // A coordinator was up the whole time, able to receive the reports that never came.
        await harness.RecordLivenessAsync(TimeSpan.FromHours(3), TimeSpan.Zero, cancellationToken);
        var reaped = await ledger.ReapAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), cancellationToken);

        Assert.Equal([hung.Id, stale.Id], reaped.Select(job => job.Id).Order().ToArray().Order());
        Assert.All(reaped, job => Assert.Equal(ProvisionerJobStatus.Failed, job.Status));
        Assert.Equal("daemon_timeout", reaped.Single(job => job.Id == hung.Id).ErrorCode);
        var staleJob = reaped.Single(job => job.Id == stale.Id);
        Assert.Equal("pending_timeout", staleJob.ErrorCode);
        Assert.Contains("mars", staleJob.Error, StringComparison.Ordinal);
        Assert.Equal(ProvisionerJobStatus.Running, (await ledger.GetAsync(alive.Id, cancellationToken))!.Status);
        Assert.Equal(ProvisionerJobStatus.Pending, (await ledger.GetAsync(fresh.Id, cancellationToken))!.Status);
        Assert.True((await ledger.HeartbeatAsync(hung.Id, daemon, cancellationToken)).Canceled);
    }

    [Fact]
    public async Task ReapAsync_SilenceDuringACoordinatorOutage_IsNotCountedAgainstTheJob()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var harness = await QueueHarness.CreateAsync(server, cancellationToken);
        var ledger = harness.Ledger;
        var daemon = Guid.NewGuid();
        var job = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        var pending = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        await ledger.ClaimThroughQueueAsync(job, daemon, cancellationToken);
        await using var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken);
        // Silent for 20 minutes, and pending for 2 hours, but every coordinator (or the database) was down from
        // 19 minutes ago until 1 minute ago: the daemon could have reported for only about 2 minutes.
        await connection.ExecuteAsync("UPDATE provisioner_jobs SET updated_at = now() - interval '20 minutes' WHERE id = @Id", new { job.Id });
        await connection.ExecuteAsync("UPDATE provisioner_jobs SET created_at = now() - interval '2 hours' WHERE id = @Id", new { pending.Id });
        await harness.RecordLivenessAsync(TimeSpan.FromHours(3), TimeSpan.FromMinutes(19), cancellationToken);
        await harness.RecordLivenessAsync(TimeSpan.FromMinutes(1), TimeSpan.Zero, cancellationToken);

        var reaped = await ledger.ReapAsync(TimeSpan.FromMinutes(5), TimeSpan.FromHours(3), cancellationToken);

        Assert.Empty(reaped);
        Assert.Equal(ProvisionerJobStatus.Running, (await ledger.GetAsync(job.Id, cancellationToken))!.Status);

        // Once the coordinators have been up for the whole timeout after the outage, the job is hung for real.
        // (Simulated by an interval covering the last 6 minutes: 1 + 6 minutes of the job's 20 were covered.)
        await harness.RecordLivenessAsync(TimeSpan.FromMinutes(6), TimeSpan.Zero, cancellationToken);
        var later = await ledger.ReapAsync(TimeSpan.FromMinutes(5), TimeSpan.FromHours(3), cancellationToken);

        Assert.Equal([job.Id], later.Select(reapedJob => reapedJob.Id).ToArray());
    }

    [Fact]
    public async Task QueueReapAsync_HungJob_GetsALogLineSayingWhyAndKeepsItsBuildsPreviousState()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var harness = await QueueHarness.CreateAsync(server, cancellationToken);
        var job = await harness.Queue.EnqueueAsync(QueueHarness.Job(), cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(QueueHarness.TestTimeout);
        var acquired = await harness.Acquirer.AcquireAsync(harness.Daemon("d1"), timeout.Token);
        Assert.Equal(job.Id, acquired?.Id);
        await using var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync("UPDATE provisioner_jobs SET updated_at = now() - interval '10 minutes' WHERE id = @Id", new { job.Id });
        await harness.RecordLivenessAsync(TimeSpan.FromMinutes(30), TimeSpan.Zero, cancellationToken);

        var reaped = await harness.Queue.ReapAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), cancellationToken);

        Assert.Equal([job.Id], reaped.Select(reapedJob => reapedJob.Id).ToArray());
        var lines = (await connection.QueryAsync<(string Stage, string Level, string Output)>(
            "SELECT stage, level, output FROM provisioner_job_logs WHERE job_id = @Id ORDER BY id", new { job.Id })).ToList();
        var line = Assert.Single(lines);
        Assert.Equal("Coordinator", line.Stage);
        Assert.Equal("error", line.Level);
        Assert.Contains("stopped reporting", line.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoveStaleDaemonsAsync_LongGoneDaemons_AreRemovedUnlessTheyHoldAJob()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var harness = await QueueHarness.CreateAsync(server, cancellationToken);
        await using var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken);
        const string insert = "INSERT INTO provisioner_daemons (name, last_seen_at) VALUES (@Name, now() - @Age) RETURNING id";
        var gone = await connection.ExecuteScalarAsync<Guid>(insert, new { Name = "gone", Age = TimeSpan.FromDays(30) });
        var busy = await connection.ExecuteScalarAsync<Guid>(insert, new { Name = "busy", Age = TimeSpan.FromDays(30) });
        var recent = await connection.ExecuteScalarAsync<Guid>(insert, new { Name = "recent", Age = TimeSpan.FromHours(1) });
        var job = await harness.Ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        await harness.Ledger.ClaimThroughQueueAsync(job, busy, cancellationToken);

        var removed = await harness.Ledger.RemoveStaleDaemonsAsync(TimeSpan.FromDays(7), cancellationToken);

        Assert.Equal(1, removed);
        var left = (await connection.QueryAsync<Guid>("SELECT id FROM provisioner_daemons")).ToHashSet();
        Assert.DoesNotContain(gone, left);
        Assert.Contains(busy, left);
        Assert.Contains(recent, left);
    }

    [Fact]
    public async Task MaintenanceRunAsync_LogsOfJobsPastRetention_AreDeletedAndRecentOnesKept()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var harness = await QueueHarness.CreateAsync(server, cancellationToken);
        var daemon = Guid.NewGuid();
        var old = await harness.Ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        var recent = await harness.Ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        var running = await harness.Ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        await using var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken);
        foreach (var job in new[] { old, recent, running })
        {
            await harness.Ledger.ClaimThroughQueueAsync(job, daemon, cancellationToken);
            await connection.ExecuteAsync(
                "INSERT INTO provisioner_job_logs (job_id, source, level, output) SELECT @Id, 'provisioner', 'info', 'line ' || n FROM generate_series(1, 25) n",
                new { job.Id });
        }

        await connection.ExecuteAsync("UPDATE provisioner_jobs SET completed_at = now() - interval '40 days' WHERE id = @Id", new { old.Id });
        await connection.ExecuteAsync("UPDATE provisioner_jobs SET completed_at = now() - interval '1 day' WHERE id = @Id", new { recent.Id });

        var deleted = await harness.Ledger.DeleteExpiredLogsAsync(TimeSpan.FromDays(30), batchSize: 10, cancellationToken);

        Assert.Equal(25, deleted);
        int Count(Guid id) => connection.ExecuteScalar<int>("SELECT count(*) FROM provisioner_job_logs WHERE job_id = @Id", new { Id = id });
        Assert.Equal(0, Count(old.Id));
        Assert.Equal(25, Count(recent.Id));
        Assert.Equal(25, Count(running.Id));
        Assert.NotNull(await harness.Ledger.GetAsync(old.Id, cancellationToken));
    }

    [Fact]
    public async Task MaintenanceRunAsync_UnpublishedJob_IsEnqueuedAndReachesADaemon()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var harness = await QueueHarness.CreateAsync(server, cancellationToken);
        var job = await harness.Ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        await using (var connection = await harness.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await connection.ExecuteAsync("UPDATE provisioner_jobs SET created_at = now() - interval '1 minute' WHERE id = @Id", new { job.Id });
        }

        var maintenance = new CoordinatorMaintenance(harness.Queue, new Files.FileStore(harness.DataSource), Options.Create(new CoordinatorOptions()), NullLogger<CoordinatorMaintenance>.Instance);
        await maintenance.RunAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var acquired = await harness.Acquirer.AcquireAsync(harness.Daemon("d1"), timeout.Token);

        Assert.Equal(job.Id, acquired?.Id);
        Assert.NotNull(acquired?.HangfireJobId);
    }
}
