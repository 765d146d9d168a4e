using System.Security.Cryptography;

using Dapper;

using Google.Protobuf;

using Grpc.Core;

using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Log = Provisioning.Sdk.Daemon.Log;
using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Daemons;

public sealed class ProvisionerDaemonServiceTests(PostgresServerFixture server)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    private static CancellationTokenSource Timeout()
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(TestTimeout);
        return source;
    }

    [Fact]
    public async Task Register_NoCredentials_IsUnauthenticated()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);

        var exception = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.RegisterAsync(
            new RegisterRequest { Daemon = new DaemonInfo { Name = "d", Provisioners = { "terraform" } } }, cancellationToken: timeout.Token));

        Assert.Equal(StatusCode.Unauthenticated, exception.StatusCode);
        Assert.Contains(ProvisionerDaemonMetadata.ProvisionerKey, exception.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_MaintenanceJobTriggered_RunsOnTheHostsHangfireServerAndEnqueuesAMissedJob()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.Queue.Ledger.InsertAsync(new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, "terraform", new Dictionary<string, string>()), timeout.Token);
        await coordinator.QueryScalarAsync<int>("UPDATE provisioner_jobs SET created_at = now() - interval '5 minutes' WHERE id = @Id RETURNING 1", new { job.Id });
        using (var connection = coordinator.Storage.GetConnection())
        {
            var recurring = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection);
            var maintenance = Assert.Single(recurring, entry => entry.Id == Provisioning.Coordinator.Queueing.CoordinatorMaintenance.RecurringJobId);
            Assert.Equal(Provisioning.Coordinator.Queueing.CoordinatorMaintenance.QueueName, maintenance.Job.Queue ?? maintenance.Queue);
        }

        new Hangfire.RecurringJobManager(coordinator.Storage).Trigger(Provisioning.Coordinator.Queueing.CoordinatorMaintenance.RecurringJobId);
        ProvisionerJob? published;
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
            published = await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token);
        }
        while (published?.HangfireJobId is null);

        Assert.Equal(ProvisionerJobStatus.Pending, published.Status);
    }

    [Fact]
    public async Task Register_WrongPsk_IsUnauthenticated()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);

        var exception = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.RegisterAsync(
            new RegisterRequest { Daemon = new DaemonInfo { Name = "d", Provisioners = { "terraform" } } },
            new Metadata { { ProvisionerDaemonMetadata.ProvisionerPsk, CoordinatorServer.Psk + "x" } },
            cancellationToken: timeout.Token));

        Assert.Equal(StatusCode.Unauthenticated, exception.StatusCode);
    }

    [Fact]
    public async Task Register_ProvisionerKey_DaemonGetsTheKeysTagsAndTheKeyIsStoredHashed()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var key = await coordinator.Keys.CreateAsync("eu-fleet", new Dictionary<string, string> { ["region"] = "eu" }, timeout.Token);

        var response = await coordinator.Client.RegisterAsync(
            new RegisterRequest { Daemon = new DaemonInfo { Name = "d", Provisioners = { "terraform" }, Tags = { ["region"] = "us", ["gpu"] = "yes" } } },
            new Metadata { { ProvisionerDaemonMetadata.ProvisionerKey, key } },
            cancellationToken: timeout.Token);
        var badKey = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.RegisterAsync(
            new RegisterRequest { Daemon = new DaemonInfo { Name = "d", Provisioners = { "terraform" } } },
            new Metadata { { ProvisionerDaemonMetadata.ProvisionerKey, key[..^1] + (key[^1] == '0' ? '1' : '0') } },
            cancellationToken: timeout.Token));

        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu" }, response.EffectiveTags);
        Assert.True(Guid.TryParse(response.DaemonId, out _));
        Assert.Equal(StatusCode.Unauthenticated, badKey.StatusCode);
        var secret = key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..];
        Assert.Equal(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)), await coordinator.QueryScalarAsync<byte[]>("SELECT hashed_secret FROM provisioner_keys", new { }));
    }

    [Fact]
    public async Task AcquireJob_JobQueued_DaemonReceivesItsInput()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("dev", 1, previousState: null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);

        var acquired = await coordinator.AcquireAsync(headers, timeout.Token);

        Assert.Equal(job.Id.ToString(), acquired.JobId);
        Assert.Equal(JobType.WorkspaceBuild, acquired.JobType);
        Assert.Equal("dev", acquired.WorkspaceBuild.WorkspaceName);
        Assert.Equal("terraform", acquired.Provisioner);
        Assert.Equal(ProvisionerJobStatus.Running, (await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token))!.Status);
    }

    [Fact]
    public async Task AcquireJob_DaemonCancelsTheWait_GetsAnEmptyJob()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var headers = await coordinator.RegisterAsync("idle", null, timeout.Token);
        using var call = coordinator.Client.AcquireJob(headers, cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready() }, timeout.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token);

        await call.RequestStream.WriteAsync(new AcquireRequest { Cancel = new AcquireRequest.Types.Cancel() }, timeout.Token);

        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(string.Empty, call.ResponseStream.Current.JobId);
    }

    [Fact]
    public async Task AcquireJob_CoordinatorShutsDown_WaitingDaemonGetsAnEmptyJob()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var headers = await coordinator.RegisterAsync("waiting", null, timeout.Token);
        using var call = coordinator.Client.AcquireJob(headers, cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready() }, timeout.Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), timeout.Token);

        var stopping = coordinator.StopHostAsync(timeout.Token);

        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(string.Empty, call.ResponseStream.Current.JobId);

        // As a daemon does: close its side of the stream, so the coordinator's graceful stop has nothing to wait for.
        await call.RequestStream.CompleteAsync();
        call.Dispose();
        await stopping;
    }

    [Fact]
    public async Task UpdateJob_LogsBeyondTheCap_KeptInOrderAndMarkedOverflowedWithoutFailingTheJob()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("logs", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        var line = new string('x', 90);

        for (var batch = 0; batch < 5; batch++)
        {
            var request = new UpdateJobRequest { JobId = job.Id.ToString() };
            for (var index = 0; index < 10; index++)
            {
                request.Logs.Add(new Log { Source = LogSource.Provisioner, Level = LogLevel.Info, Stage = "Planning", Output = $"{batch:D2}{index:D2}{line}" });
            }

            var response = await coordinator.Client.UpdateJobAsync(request, headers, cancellationToken: timeout.Token);
            Assert.False(response.Canceled);
        }

        await using var connection = await coordinator.DataSource.OpenConnectionAsync(timeout.Token);
        var outputs = (await connection.QueryAsync<string>("SELECT output FROM provisioner_job_logs WHERE job_id = @Id ORDER BY id", new { job.Id })).ToList();
        var stored = await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token);
        Assert.Equal(CoordinatorServer.MaxJobLogBytes / 94, outputs.Count);
        Assert.Equal(outputs.Order(StringComparer.Ordinal), outputs);
        Assert.True(stored!.LogsOverflowed);
        Assert.True(stored.LogsLength <= CoordinatorServer.MaxJobLogBytes);
        Assert.Equal(ProvisionerJobStatus.Running, stored.Status);
    }

    [Fact]
    public async Task UpdateJob_LineBeyondTheCapThenTheJobIsReaped_LaterLinesAreCountedAndTheLogEndsWithTheOmittedCount()
    {
        // Arrange: ten lines that fit, then one that does not and two short ones that would.
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("omitted", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        var fits = new UpdateJobRequest { JobId = job.Id.ToString() };
        for (var index = 0; index < 10; index++)
        {
            fits.Logs.Add(new Log { Source = LogSource.Provisioner, Level = LogLevel.Info, Stage = "Applying", Output = $"{index:D2}" + new string('x', 92) });
        }

        var beyond = new UpdateJobRequest { JobId = job.Id.ToString() };
        foreach (var output in new[] { new string('y', 2000), "a", "b" })
        {
            beyond.Logs.Add(new Log { Source = LogSource.Provisioner, Level = LogLevel.Info, Stage = "Applying", Output = output });
        }

        // Act: both batches are accepted; then the reaper ends the job.
        await coordinator.Client.UpdateJobAsync(fits, headers, cancellationToken: timeout.Token);
        await coordinator.Client.UpdateJobAsync(beyond, headers, cancellationToken: timeout.Token);
        await Task.Delay(50, timeout.Token);
        // The reaper counts silence only while a coordinator was up (coordinator_liveness); this host extends its
        // interval every few seconds, so record that it is up right now.
        await coordinator.QueryScalarAsync<int>("INSERT INTO coordinator_liveness (replica, started_at, last_seen_at) VALUES ('test', now() - interval '1 minute', now()) RETURNING 1", new { });
        var reaped = await coordinator.Queue.ReapAsync(TimeSpan.FromMilliseconds(10), TimeSpan.FromDays(1), timeout.Token);

        // Assert: the stored log is the prefix that fit, then one line counting the rest; the job is marked overflowed.
        Assert.Contains(reaped, ended => ended.Id == job.Id);
        await using var connection = await coordinator.DataSource.OpenConnectionAsync(timeout.Token);
        var lines = (await connection.QueryAsync<(string Level, string Stage, string Output)>(
            "SELECT level, stage, output FROM provisioner_job_logs WHERE job_id = @Id ORDER BY id", new { job.Id })).ToList();
        var stored = lines.Where(line => line.Stage == "Applying" && line.Level == "info").Select(line => line.Output[..2]).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(index => $"{index:D2}"), stored);
        Assert.DoesNotContain(lines, line => line.Output is "a" or "b");
        Assert.Equal("warn", lines[^1].Level);
        Assert.StartsWith("3 log lines (2002 bytes) were left out", lines[^1].Output, StringComparison.Ordinal);
        Assert.Equal(1, lines.Count(line => line.Output.Contains("were left out", StringComparison.Ordinal)));
        Assert.True((await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token))!.LogsOverflowed);
    }

    [Fact]
    public async Task UpdateJob_UserCanceledTheJob_ResponseSaysCanceled()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("cancel", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);

        await coordinator.Queue.CancelAsync(job.Id, timeout.Token);
        var response = await coordinator.Client.UpdateJobAsync(new UpdateJobRequest { JobId = job.Id.ToString() }, headers, cancellationToken: timeout.Token);

        Assert.True(response.Canceled);
    }

    [Fact]
    public async Task UpdateJob_AnotherDaemonsJob_IsPermissionDenied()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("owned", 1, null, timeout.Token);
        var owner = await coordinator.RegisterAsync("owner", null, timeout.Token);
        var intruder = await coordinator.RegisterAsync("intruder", null, timeout.Token);
        await coordinator.AcquireAsync(owner, timeout.Token);

        var update = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.UpdateJobAsync(new UpdateJobRequest { JobId = job.Id.ToString() }, intruder, cancellationToken: timeout.Token));
        var complete = await Assert.ThrowsAsync<RpcException>(async () => await coordinator.Client.CompleteJobAsync(
            new CompletedJob { JobId = job.Id.ToString(), WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild() }, intruder, cancellationToken: timeout.Token));

        Assert.Equal(StatusCode.PermissionDenied, update.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, complete.StatusCode);
        Assert.Equal(ProvisionerJobStatus.Running, (await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token))!.Status);
    }

    [Fact]
    public async Task CompleteJob_ReportedTwice_StoresStateAndResourcesOnce()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("complete", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        var state = "{\"version\":4,\"serial\":1}"u8.ToArray();
        var completed = new CompletedJob
        {
            JobId = job.Id.ToString(),
            WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild
            {
                State = new Blob { Inline = ByteString.CopyFrom(state) },
                Resources =
                {
                    new Resource
                    {
                        Name = "dev",
                        Type = "terraform_data",
                        Metadata = { new Resource.Types.Metadata { Key = "size", Value = "small" } },
                        Agents = { new Agent { Name = "main", OperatingSystem = "linux", Architecture = "amd64", Apps = { new App { Slug = "code", DisplayName = "Code" } } } },
                    },
                },
            },
        };

        await coordinator.Client.CompleteJobAsync(completed, headers, cancellationToken: timeout.Token);
        await coordinator.Client.CompleteJobAsync(completed, headers, cancellationToken: timeout.Token);

        Assert.Equal(ProvisionerJobStatus.Succeeded, (await coordinator.Queue.Ledger.GetAsync(job.Id, timeout.Token))!.Status);
        Assert.Equal(state, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { job.Id }));
        Assert.Equal(1, await coordinator.QueryScalarAsync<int>("SELECT count(*) FROM workspace_resources WHERE job_id = @Id", new { job.Id }));
        Assert.Equal(1, await coordinator.QueryScalarAsync<int>(
            "SELECT count(*) FROM workspace_apps a JOIN workspace_agents g ON g.id = a.agent_id JOIN workspace_resources r ON r.id = g.resource_id WHERE r.job_id = @Id AND a.slug = 'code'",
            new { job.Id }));
        Assert.False(await coordinator.QueryScalarAsync<bool>("SELECT active FROM workspace_builds WHERE job_id = @Id", new { job.Id }));
    }

    [Fact]
    public async Task FailJob_WithPartialState_KeepsItAndWithoutState_KeepsThePreviousBuilds()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var previous = "previous-state"u8.ToArray();
        var partial = "partial-state"u8.ToArray();
        var withState = await coordinator.EnqueueWorkspaceBuildAsync("partial", 2, previous, timeout.Token);
        var withoutState = await coordinator.EnqueueWorkspaceBuildAsync("nothing", 2, previous, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token, slots: 2);
        await coordinator.AcquireAsync(headers, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);

        await coordinator.Client.FailJobAsync(
            new FailedJob { JobId = withState.Id.ToString(), Error = "apply failed", ErrorCode = "terraform_error", WorkspaceBuild = new FailedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(partial) } } },
            headers, cancellationToken: timeout.Token);
        await coordinator.Client.FailJobAsync(
            new FailedJob { JobId = withoutState.Id.ToString(), Error = "init failed", WorkspaceBuild = new FailedJob.Types.WorkspaceBuild() },
            headers, cancellationToken: timeout.Token);

        Assert.Equal(partial, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { withState.Id }));
        Assert.Equal(previous, await coordinator.QueryScalarAsync<byte[]>("SELECT provisioner_state FROM workspace_builds WHERE job_id = @Id", new { withoutState.Id }));
        var failed = await coordinator.Queue.Ledger.GetAsync(withState.Id, timeout.Token);
        Assert.Equal(ProvisionerJobStatus.Failed, failed!.Status);
        Assert.Equal("terraform_error", failed.ErrorCode);
    }

    [Fact]
    public async Task UploadFile_ThenDownloadFile_RoundTripsChunkedBytes()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("files", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token, slots: 2);
        await coordinator.AcquireAsync(headers, timeout.Token);
        var data = RandomNumberGenerator.GetBytes(700 * 1024);
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));

        var reference = await UploadAsync(coordinator, headers, job.Id, data, sha, timeout.Token);

        Assert.Equal(sha, reference.Sha256);
        Assert.Equal(data.Length, reference.Size);

        // A job may download only what it refers to: a second job whose archive is the uploaded file.
        var archiveJob = await coordinator.Queue.EnqueueAsync(
            new NewProvisionerJob(ProvisionerJobType.TemplateVersionImport, "terraform", new Dictionary<string, string>(), FileHash: sha), timeout.Token);
        var acquired = await coordinator.AcquireAsync(headers, timeout.Token);
        Assert.Equal(archiveJob.Id.ToString(), acquired.JobId);
        Assert.Equal(sha, acquired.TemplateSourceArchive.File.Sha256);
        using var download = coordinator.Client.DownloadFile(new DownloadFileRequest { JobId = archiveJob.Id.ToString(), FileId = sha }, headers, cancellationToken: timeout.Token);
        var chunks = new List<FileChunk>();
        await foreach (var chunk in download.ResponseStream.ReadAllAsync(timeout.Token))
        {
            chunks.Add(chunk);
        }

        Assert.Equal(FileChunk.TypeOneofCase.Header, chunks[0].TypeCase);
        Assert.Equal(data.Length, chunks[0].Header.Size);
        Assert.True(chunks.Count > 2);
        Assert.Equal(data, chunks.Skip(1).SelectMany(chunk => chunk.Data.ToByteArray()).ToArray());
        var notReferenced = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var other = coordinator.Client.DownloadFile(new DownloadFileRequest { JobId = archiveJob.Id.ToString(), FileId = new string('a', 64) }, headers, cancellationToken: timeout.Token);
            await other.ResponseStream.MoveNext(timeout.Token);
        });
        Assert.Equal(StatusCode.PermissionDenied, notReferenced.StatusCode);
    }

    [Fact]
    public async Task UploadFile_WrongShaOrTooLarge_IsRefusedAndStoresNothing()
    {
        using var timeout = Timeout();
        await using var coordinator = await CoordinatorServer.StartAsync(server, timeout.Token);
        var job = await coordinator.EnqueueWorkspaceBuildAsync("bad-files", 1, null, timeout.Token);
        var headers = await coordinator.RegisterAsync("d1", null, timeout.Token);
        await coordinator.AcquireAsync(headers, timeout.Token);
        var data = RandomNumberGenerator.GetBytes(1000);

        var corrupted = await Assert.ThrowsAsync<RpcException>(() => UploadAsync(coordinator, headers, job.Id, data, new string('0', 64), timeout.Token));
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => UploadAsync(coordinator, headers, job.Id, new byte[CoordinatorServer.MaxUploadBytes + 1], new string('0', 64), timeout.Token));

        Assert.Equal(StatusCode.DataLoss, corrupted.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
        Assert.Equal(0, await coordinator.QueryScalarAsync<int>("SELECT count(*) FROM files", new { }));
    }

    private static async Task<FileReference> UploadAsync(CoordinatorServer coordinator, Metadata headers, Guid jobId, byte[] data, string sha, CancellationToken cancellationToken)
    {
        using var upload = coordinator.Client.UploadFile(headers, cancellationToken: cancellationToken);
        await upload.RequestStream.WriteAsync(new FileChunk { Header = new FileChunk.Types.Header { JobId = jobId.ToString(), Kind = "state", Size = data.Length, Sha256 = sha } }, cancellationToken);
        try
        {
            for (var offset = 0; offset < data.Length; offset += 128 * 1024)
            {
                await upload.RequestStream.WriteAsync(new FileChunk { Data = ByteString.CopyFrom(data, offset, Math.Min(128 * 1024, data.Length - offset)) }, cancellationToken);
            }

            await upload.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The coordinator refused early (e.g. the size in the header); its status comes with the response.
        }
        catch (InvalidOperationException)
        {
            // Writing after the server ended the call; the status comes with the response.
        }

        return await upload;
    }
}
