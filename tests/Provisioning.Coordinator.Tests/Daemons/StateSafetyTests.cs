using System.Security.Cryptography;

using Dapper;

using Google.Protobuf;

using Grpc.Core;

using Microsoft.Extensions.DependencyInjection;

using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Daemons;

/// <summary>
/// Invariants 1, 3 and 6 at the daemon protocol (docs/architecture.md: invariants, trust boundaries): late states are kept, daemons prove who they
/// are, a revoked key takes no more work but loses no state, a daemon touches only its own job's files and slots.
/// </summary>
public sealed class StateSafetyTests(PostgresServerFixture server)
{
    private static CancellationTokenSource Timeout()
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(TimeSpan.FromSeconds(60));
        return source;
    }

    [Fact]
    public async Task CompleteJob_AfterTheReaperFailedTheJob_StateIsRecordedOnTheLatestBuildAndTheDaemonIsTold()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var previous = "previous-state"u8.ToArray();
        var job = await coordinator.EnqueueWorkspaceBuildAsync("late", 2, previous, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        await ReapAsHungAsync(coordinator, job.Id, timeout.Token);
        var late = "late-state"u8.ToArray();

        var response = await coordinator.Client.CompleteJobAsync(
            new CompletedJob
            {
                JobId = job.Id.ToString(),
                WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild
                {
                    State = new Blob { Inline = ByteString.CopyFrom(late) },
                    Resources = { new Resource { Name = "dev", Type = "terraform_data" } },
                },
            },
            headers,
            cancellationToken: timeout.Token);

        Assert.Equal(ReportJobResponse.Types.Outcome.LateStateRecorded, response.Outcome);
        Assert.Contains("late", response.Message, StringComparison.Ordinal);
        Assert.Equal(late, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { job.Id }));
        Assert.Equal(1, await coordinator.QueryScalarAsync<int>("SELECT count(*) FROM workspace_resources WHERE job_id = @Id", new { job.Id }));
        var ended = await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token);
        Assert.Equal(ProvisionerJobStatus.Failed, ended!.Status);
        Assert.Equal("daemon_timeout", ended.ErrorCode);
        Assert.True(await coordinator.QueryScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM provisioner_job_logs WHERE job_id = @Id AND stage = 'Coordinator' AND output LIKE '%recorded on the build%')", new { job.Id }));

        // A repeated copy of the late report (its answer was lost) changes nothing.
        var repeated = await coordinator.Client.CompleteJobAsync(
            new CompletedJob { JobId = job.Id.ToString(), WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(late) } } },
            headers,
            cancellationToken: timeout.Token);
        Assert.Equal(ReportJobResponse.Types.Outcome.AlreadyRecorded, repeated.Outcome);
        Assert.Equal(1, await coordinator.QueryScalarAsync<int>("SELECT count(*) FROM workspace_resources WHERE job_id = @Id", new { job.Id }));
    }

    [Fact]
    public async Task FailJob_LateWhileANewerBuildExists_StateIsKeptAsAnOrphanAndTheNewerBuildIsUntouched()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var previous = "previous-state"u8.ToArray();
        var job = await coordinator.EnqueueWorkspaceBuildAsync("orphan", 2, previous, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        await ReapAsHungAsync(coordinator, job.Id, timeout.Token);
        var newerJob = await coordinator.Queue.Ledger.InsertAsync(new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, "terraform", new Dictionary<string, string>()), timeout.Token);
        await coordinator.QueryScalarAsync<int>(
            """
            INSERT INTO workspace_builds (workspace_id, template_version_id, build_number, transition, job_id, provisioner_state, active)
            SELECT workspace_id, template_version_id, 3, 'stop', @NewerJob, provisioner_state, false FROM workspace_builds WHERE job_id = @Id
            RETURNING 1
            """,
            new { job.Id, NewerJob = newerJob.Id });
        var partial = "partial-state"u8.ToArray();

        var response = await coordinator.Client.FailJobAsync(
            new FailedJob
            {
                JobId = job.Id.ToString(), Error = "canceled", ErrorCode = "canceled",
                WorkspaceBuild = new FailedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(partial) } },
            },
            headers,
            cancellationToken: timeout.Token);

        Assert.Equal(ReportJobResponse.Types.Outcome.LateStateOrphaned, response.Outcome);
        Assert.Equal(partial, await coordinator.QueryScalarAsync<byte[]>("SELECT state FROM workspace_orphaned_states WHERE job_id = @Id", new { job.Id }));
        Assert.Equal(previous, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { job.Id }));
        Assert.Equal(previous, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { Id = newerJob.Id }));
    }

    [Fact]
    public async Task CallsAfterRegister_AnotherDaemonsIdWithoutItsSessionSecret_AreRefused()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("spoof", 1, null, timeout.Token);
        var victim = await coordinator.RegisterAsync("victim", null, timeout.Token);
        await coordinator.RegisterAsync("intruder", null, timeout.Token);
        await coordinator.AcquireAsync(victim, timeout.Token);
        var victimSession = victim.GetValue(ProvisionerDaemonMetadata.DaemonSession)!;

        // The intruder holds the same pre-shared key and knows the victim's id, but not its session secret.
        var forged = CoordinatorServer.PskHeaders(victimSession[..victimSession.IndexOf('.', StringComparison.Ordinal)] + "." + new string('0', 64));
        var bareId = CoordinatorServer.PskHeaders();
        bareId.Add("provisioning-daemon-id", victimSession[..32]);

        var withForgedSession = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.UpdateJobAsync(new UpdateJobRequest { JobId = job.Id.ToString() }, forged, cancellationToken: timeout.Token));
        var withBareId = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.FailJobAsync(new FailedJob { JobId = job.Id.ToString(), Error = "x" }, bareId, cancellationToken: timeout.Token));

        Assert.Equal(StatusCode.Unauthenticated, withForgedSession.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, withBareId.StatusCode);
        Assert.Equal(ProvisionerJobStatus.Running, (await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token))!.Status);
    }

    [Fact]
    public async Task RevokeKey_WaitingStreamEndsWithinSeconds_NoJobIsClaimedAndTheRunningJobStillReportsItsState()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var running = await coordinator.EnqueueWorkspaceBuildAsync("revoked", 1, null, timeout.Token);
        var key = await coordinator.Keys.CreateAsync("doomed", new Dictionary<string, string>(), timeout.Token);
        var keyHeaders = new Metadata { { ProvisionerDaemonMetadata.ProvisionerKey, key } };
        var registered = await coordinator.Client.RegisterAsync(
            new RegisterRequest { Daemon = new DaemonInfo { Name = "keyed", Provisioners = { "terraform" }, Slots = 2 } }, keyHeaders, cancellationToken: timeout.Token);
        var headers = new Metadata { { ProvisionerDaemonMetadata.ProvisionerKey, key }, { ProvisionerDaemonMetadata.DaemonSession, registered.SessionToken } };
        await coordinator.AcquireAsync(headers, timeout.Token);
        using var waiting = coordinator.Client.AcquireJob(headers, cancellationToken: timeout.Token);
        await waiting.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready() }, timeout.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token); // Let the stream reach the acquirer's wait.

        var revocation = coordinator.Services.GetRequiredService<DaemonRevocation>();
        Assert.True(await revocation.RevokeKeyAsync("doomed", timeout.Token));

        var ended = await Assert.ThrowsAsync<RpcException>(async () => await waiting.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(StatusCode.PermissionDenied, ended.StatusCode);
        var queuedAfter = await coordinator.EnqueueWorkspaceBuildAsync("after", 1, null, timeout.Token);
        var again = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.AcquireAsync(headers, timeout.Token));
        Assert.Equal(StatusCode.PermissionDenied, again.StatusCode);
        Assert.Equal(ProvisionerJobStatus.Pending, (await coordinator.Queue.Ledger.GetAsync(queuedAfter.Id, timeout.Token))!.Status);

        // The running job was canceled; its daemon learns it from its heartbeat and still reports the state it holds.
        var heartbeat = await coordinator.Client.UpdateJobAsync(new UpdateJobRequest { JobId = running.Id.ToString() }, headers, cancellationToken: timeout.Token);
        Assert.True(heartbeat.Canceled);
        var partial = "partial-after-revoke"u8.ToArray();
        var report = await coordinator.Client.FailJobAsync(
            new FailedJob { JobId = running.Id.ToString(), Error = "canceled", ErrorCode = "canceled", WorkspaceBuild = new FailedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(partial) } } },
            headers,
            cancellationToken: timeout.Token);
        Assert.Equal(ReportJobResponse.Types.Outcome.Recorded, report.Outcome);
        Assert.Equal(ProvisionerJobStatus.Canceled, (await coordinator.Queue.Ledger.GetAsync(running.Id, timeout.Token))!.Status);
        Assert.Equal(partial, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { running.Id }));
    }

    [Fact]
    public async Task CompleteJob_NamingAFileThisDaemonDidNotUploadForTheJob_IsRefusedAndChangesNothing()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("foreign", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        // A file stored for someone else (e.g. another user's template archive or another workspace's state).
        var foreign = RandomNumberGenerator.GetBytes(100);
        string hash;
        await using (var connection = await coordinator.DataSource.OpenConnectionAsync(timeout.Token))
        await using (var transaction = await connection.BeginTransactionAsync(timeout.Token))
        {
            hash = await FileStore.StoreBytesAsync(connection, transaction, foreign, "application/json", null, timeout.Token);
            await transaction.CommitAsync(timeout.Token);
        }

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.CompleteJobAsync(
            new CompletedJob { JobId = job.Id.ToString(), WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { File = new FileReference { Id = hash, Sha256 = hash, Size = foreign.Length } } } },
            headers,
            cancellationToken: timeout.Token));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal(ProvisionerJobStatus.Running, (await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token))!.Status);
        Assert.Null(await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { job.Id }));
    }

    [Fact]
    public async Task DownloadFile_AHashThatOnlyAppearsInTheJobsInputText_IsRefused()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var secret = RandomNumberGenerator.GetBytes(100);
        string hash;
        await using (var connection = await coordinator.DataSource.OpenConnectionAsync(timeout.Token))
        await using (var transaction = await connection.BeginTransactionAsync(timeout.Token))
        {
            hash = await FileStore.StoreBytesAsync(connection, transaction, secret, "application/json", null, timeout.Token);
            await transaction.CommitAsync(timeout.Token);
        }

        // The hash is in the job's input, but as a parameter value (anyone can type it), not as one of the job's files.
        var payload = new AcquiredJob { WorkspaceBuild = new AcquiredJob.Types.WorkspaceBuild { WorkspaceName = "w", RichParameterValues = { new RichParameterValue { Name = "p", Value = hash } } } };
        var job = await coordinator.Queue.EnqueueAsync(
            new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, "terraform", new Dictionary<string, string>(), ProvisionerJobInputs.ToInput(payload)), timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);

        using var download = coordinator.Client.DownloadFile(new DownloadFileRequest { JobId = job.Id.ToString(), FileId = hash }, headers, cancellationToken: timeout.Token);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await download.ResponseStream.MoveNext(timeout.Token));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }

    [Fact]
    public async Task AcquireJob_BeyondTheDaemonsDeclaredSlots_IsRefused()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        await coordinator.EnqueueWorkspaceBuildAsync("slot1", 1, null, timeout.Token);
        await coordinator.EnqueueWorkspaceBuildAsync("slot2", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("one-slot", null, timeout.Token, slots: 1);
        await coordinator.AcquireAsync(headers, timeout.Token);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.AcquireAsync(headers, timeout.Token));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("1 slot", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await coordinator.QueryScalarAsync<int>("SELECT count(*)::int FROM provisioner_jobs WHERE started_at IS NOT NULL", new { }));
    }

    [Fact]
    public async Task AcquireJob_AfterTheHeldJobWasReported_IsServedTheNextJob()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var first = await coordinator.EnqueueWorkspaceBuildAsync("reported1", 1, null, timeout.Token);
        var second = await coordinator.EnqueueWorkspaceBuildAsync("reported2", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("one-slot-reported", null, timeout.Token, slots: 1);
        Assert.Equal(first.Id.ToString(), (await coordinator.AcquireAsync(headers, timeout.Token)).JobId);

        await coordinator.Client.CompleteJobAsync(
            new CompletedJob { JobId = first.Id.ToString(), WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild() }, headers, cancellationToken: timeout.Token);
        var next = await coordinator.AcquireAsync(headers, timeout.Token);

        Assert.Equal(second.Id.ToString(), next.JobId);
    }

    [Fact]
    public async Task AcquireJob_AfterTheHeldJobWasReapedWithoutAReport_IsServedTheNextJob()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var first = await coordinator.EnqueueWorkspaceBuildAsync("reaped1", 1, null, timeout.Token);
        var second = await coordinator.EnqueueWorkspaceBuildAsync("reaped2", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("one-slot-reaped", null, timeout.Token, slots: 1);
        Assert.Equal(first.Id.ToString(), (await coordinator.AcquireAsync(headers, timeout.Token)).JobId);

        // The job ends without a report this process sees: the held-jobs hint still counts it, the ledger does not.
        await ReapAsHungAsync(coordinator, first.Id, timeout.Token);
        var next = await coordinator.AcquireAsync(headers, timeout.Token);

        Assert.Equal(second.Id.ToString(), next.JobId);
    }

    [Fact]
    public async Task CollectUnreferenced_OldFileNothingRefersTo_IsDeletedAndReferencedOnesKept()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var store = coordinator.Services.GetRequiredService<FileStore>();
        string unreferenced, archive;
        await using (var connection = await coordinator.DataSource.OpenConnectionAsync(timeout.Token))
        await using (var transaction = await connection.BeginTransactionAsync(timeout.Token))
        {
            unreferenced = await FileStore.StoreBytesAsync(connection, transaction, RandomNumberGenerator.GetBytes(3 * FileStore.ChunkSize / 2), "application/x-tar", null, timeout.Token);
            archive = await FileStore.StoreBytesAsync(connection, transaction, RandomNumberGenerator.GetBytes(64), "application/x-tar", null, timeout.Token);
            await transaction.CommitAsync(timeout.Token);
        }

        await coordinator.Queue.Ledger.InsertAsync(new NewProvisionerJob(ProvisionerJobType.TemplateVersionImport, "terraform", new Dictionary<string, string>(), FileHash: archive), timeout.Token);
        await coordinator.QueryScalarAsync<int>("UPDATE files SET created_at = now() - interval '2 days' RETURNING 1", new { });

        var collected = await store.CollectUnreferencedAsync(TimeSpan.FromDays(1), timeout.Token);

        Assert.Equal(1, collected);
        Assert.Null(await store.GetInfoAsync(unreferenced, timeout.Token));
        Assert.NotNull(await store.GetInfoAsync(archive, timeout.Token));
        Assert.Equal(0, await coordinator.QueryScalarAsync<int>("SELECT count(*)::int FROM file_chunks c LEFT JOIN files f ON f.content_id = c.content_id WHERE f.hash IS NULL", new { }));
    }

    /// <summary>Makes the job look silent for 10 minutes while a coordinator was up, and runs the reaper.</summary>
    private static async Task ReapAsHungAsync(CoordinatorServer coordinator, Guid jobId, CancellationToken cancellationToken)
    {
        await coordinator.QueryScalarAsync<int>("UPDATE provisioner_jobs SET updated_at = now() - interval '10 minutes' WHERE id = @Id RETURNING 1", new { Id = jobId });
        await coordinator.QueryScalarAsync<int>("INSERT INTO coordinator_liveness (replica, started_at, last_seen_at) VALUES ('test', now() - interval '1 hour', now()) RETURNING 1", new { });
        var reaped = await coordinator.Queue.ReapAsync(TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), cancellationToken);
        Assert.Contains(reaped, job => job.Id == jobId);
    }
}
