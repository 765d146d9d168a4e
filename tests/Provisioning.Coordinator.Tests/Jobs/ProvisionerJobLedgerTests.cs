using Dapper;

using Npgsql;

using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Tests.Queueing;

namespace Provisioning.Coordinator.Tests.Jobs;

public sealed class ProvisionerJobLedgerTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    private ProvisionerJobLedger CreateLedger(out NpgsqlDataSource dataSource)
    {
        dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        return new ProvisionerJobLedger(dataSource);
    }

    [Fact]
    public async Task ClaimAsync_PendingJob_SetsWorkerAndStartsIt()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var job = await ledger.InsertAsync(QueueHarness.Job(("suite", "ledger")), TestContext.Current.CancellationToken);
        var daemon = Guid.NewGuid();

        var claimed = await ledger.ClaimThroughQueueAsync(job, daemon, TestContext.Current.CancellationToken);

        Assert.NotNull(claimed);
        Assert.Equal(daemon, claimed.WorkerId);
        Assert.Equal(ProvisionerJobStatus.Running, claimed.Status);
        Assert.NotNull(claimed.StartedAt);
    }

    [Fact]
    public async Task ClaimAsync_AlreadyClaimed_ReturnsNull()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var job = await ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        var first = Guid.NewGuid();
        await ledger.ClaimThroughQueueAsync(job, first, TestContext.Current.CancellationToken);

        var second = await ledger.ClaimThroughQueueAsync(job, Guid.NewGuid(), TestContext.Current.CancellationToken);

        Assert.Null(second);
        Assert.Equal(first, (await ledger.GetAsync(job.Id, TestContext.Current.CancellationToken))!.WorkerId);
    }

    [Fact]
    public async Task ClaimAsync_CanceledJob_IsRefused()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var job = await ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await ledger.CancelAsync(job.Id, TestContext.Current.CancellationToken);

        var claimed = await ledger.ClaimThroughQueueAsync(job, Guid.NewGuid(), TestContext.Current.CancellationToken);

        Assert.Null(claimed);
        var current = await ledger.GetAsync(job.Id, TestContext.Current.CancellationToken);
        Assert.Equal(ProvisionerJobStatus.Canceled, current!.Status);
        Assert.Null(current.WorkerId);
    }

    [Fact]
    public async Task CancelAsync_PendingJob_EndsAtOnce()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var job = await ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);

        var canceled = await ledger.CancelAsync(job.Id, TestContext.Current.CancellationToken);

        Assert.Equal(ProvisionerJobStatus.Canceled, canceled.Status);
        Assert.NotNull(canceled.CompletedAt);
        Assert.Equal("canceled", canceled.ErrorCode);
    }

    [Fact]
    public async Task CancelAsync_RunningJob_BecomesCancelingAndTheHeartbeatSaysSo()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var daemon = Guid.NewGuid();
        var job = await ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await ledger.ClaimThroughQueueAsync(job, daemon, TestContext.Current.CancellationToken);
        Assert.False((await ledger.HeartbeatAsync(job.Id, daemon, TestContext.Current.CancellationToken)).Canceled);

        var canceling = await ledger.CancelAsync(job.Id, TestContext.Current.CancellationToken);
        var heartbeat = await ledger.HeartbeatAsync(job.Id, daemon, TestContext.Current.CancellationToken);
        var failed = await ledger.FailAsync(job.Id, daemon, "interrupted", "canceled", TestContext.Current.CancellationToken);

        Assert.Equal(ProvisionerJobStatus.Canceling, canceling.Status);
        Assert.Null(canceling.CompletedAt);
        Assert.True(heartbeat.Canceled);
        Assert.Equal(ProvisionerJobStatus.Canceled, failed.Job.Status);
    }

    [Fact]
    public async Task CompleteAsync_RepeatedReport_IsAcknowledgedWithoutChange()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var daemon = Guid.NewGuid();
        var job = await ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await ledger.ClaimThroughQueueAsync(job, daemon, TestContext.Current.CancellationToken);

        var first = await ledger.CompleteAsync(job.Id, daemon, TestContext.Current.CancellationToken);
        var second = await ledger.CompleteAsync(job.Id, daemon, TestContext.Current.CancellationToken);
        var failAfterwards = await ledger.FailAsync(job.Id, daemon, "late failure", null, TestContext.Current.CancellationToken);

        Assert.Equal(CompletionOutcome.Completed, first.Outcome);
        Assert.Equal(CompletionOutcome.AlreadyCompleted, second.Outcome);
        Assert.Equal(CompletionOutcome.AlreadyCompleted, failAfterwards.Outcome);
        Assert.Equal(ProvisionerJobStatus.Succeeded, failAfterwards.Job.Status);
        Assert.Equal(first.Job.CompletedAt, second.Job.CompletedAt);
    }

    [Fact]
    public async Task CompleteAsync_OtherDaemon_IsRefused()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        var owner = Guid.NewGuid();
        var intruder = Guid.NewGuid();
        var job = await ledger.InsertAsync(QueueHarness.Job(), TestContext.Current.CancellationToken);
        await ledger.ClaimThroughQueueAsync(job, owner, TestContext.Current.CancellationToken);

        var exception = await Assert.ThrowsAsync<ProvisionerJobOwnershipException>(() => ledger.CompleteAsync(job.Id, intruder, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ProvisionerJobOwnershipException>(() => ledger.HeartbeatAsync(job.Id, intruder, TestContext.Current.CancellationToken));

        Assert.Equal(intruder, exception.DaemonId);
        Assert.Equal(ProvisionerJobStatus.Running, (await ledger.GetAsync(job.Id, TestContext.Current.CancellationToken))!.Status);
    }

    [Fact]
    public async Task HeartbeatAsync_UnknownJob_ThrowsNotFound()
    {
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;

        await Assert.ThrowsAsync<ProvisionerJobNotFoundException>(() => ledger.HeartbeatAsync(Guid.NewGuid(), Guid.NewGuid(), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WorkspaceBuilds_SecondActiveBuild_IsRefusedUntilTheFirstEnds()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var ledger = CreateLedger(out var dataSource);
        await using var _ = dataSource;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var owner = await connection.ExecuteScalarAsync<Guid>("INSERT INTO users (username, email) VALUES ('builder', 'b@example.com') RETURNING id");
        var importJob = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        var template = await connection.ExecuteScalarAsync<Guid>("INSERT INTO templates (name) VALUES ('tpl') RETURNING id");
        var version = await connection.ExecuteScalarAsync<Guid>(
            "INSERT INTO template_versions (template_id, name, job_id) VALUES (@template, 'v1', @job) RETURNING id", new { template, job = importJob.Id });
        var workspace = await connection.ExecuteScalarAsync<Guid>(
            "INSERT INTO workspaces (owner_id, template_id, name) VALUES (@owner, @template, 'dev') RETURNING id", new { owner, template });
        const string insertBuild = """
            INSERT INTO workspace_builds (workspace_id, template_version_id, build_number, transition, job_id)
            VALUES (@workspace, @version, @number, 'start', @job)
            """;
        var firstJob = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);
        await connection.ExecuteAsync(insertBuild, new { workspace, version, number = 1, job = firstJob.Id });
        var secondJob = await ledger.InsertAsync(QueueHarness.Job(), cancellationToken);

        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(insertBuild, new { workspace, version, number = 2, job = secondJob.Id }));
        await ledger.CancelAsync(firstJob.Id, cancellationToken);
        await connection.ExecuteAsync(insertBuild, new { workspace, version, number = 2, job = secondJob.Id });

        Assert.Equal(PostgresErrorCodes.UniqueViolation, refused.SqlState);
        Assert.Equal("workspace_builds_one_active", refused.ConstraintName);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM workspace_builds WHERE workspace_id = @workspace AND active", new { workspace }));
    }
}
