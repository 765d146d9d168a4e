using System.Diagnostics;
using System.Security.Cryptography;

using Dapper;

using Google.Protobuf;

using Grpc.Core;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Telemetry;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// The coordinator side of provisionerd.proto: registers daemons, hands them jobs through the
/// <see cref="JobAcquirer"/>, and records what they report. Every job call is checked against the job's
/// owner; failures become <see cref="RpcException"/>s with a status a daemon can act on.
/// </summary>
public sealed class ProvisionerDaemonService : ProvisionerDaemon.ProvisionerDaemonBase
{
    private const int ChunkSize = 256 * 1024;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ProvisionerJobQueue _queue;
    private readonly JobAcquirer _acquirer;
    private readonly DaemonAuthenticator _authenticator;
    private readonly DaemonStreams _streams;
    private readonly JobReports _reports;
    private readonly FileStore _files;
    private readonly CoordinatorOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ProvisionerDaemonService> _logger;

    public ProvisionerDaemonService(
        NpgsqlDataSource dataSource,
        ProvisionerJobQueue queue,
        JobAcquirer acquirer,
        DaemonAuthenticator authenticator,
        DaemonStreams streams,
        JobReports reports,
        FileStore files,
        IOptions<CoordinatorOptions> options,
        IHostApplicationLifetime lifetime,
        ILogger<ProvisionerDaemonService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _queue = queue;
        _acquirer = acquirer;
        _authenticator = authenticator;
        _streams = streams;
        _reports = reports;
        _files = files;
        _options = options.Value;
        _lifetime = lifetime;
        _logger = logger;
    }

    private ProvisionerJobLedger Ledger => _queue.Ledger;

    public override async Task<RegisterResponse> Register(RegisterRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var credential = await _authenticator.AuthenticateAsync(context).ConfigureAwait(false);
        var (daemon, tags, sessionToken) = await _authenticator.RegisterAsync(credential, request.Daemon ?? new DaemonInfo(), context.CancellationToken).ConfigureAwait(false);
        ProvisionerDaemonServiceLog.Registered(_logger, daemon.Name, daemon.Id, string.Join(',', daemon.Provisioners), Math.Max(1, request.Daemon?.Slots ?? 1));
        var response = new RegisterResponse
        {
            DaemonId = daemon.Id.ToString(),
            HeartbeatIntervalSeconds = (int)Math.Clamp(_options.JobHangTimeout.TotalSeconds / 10, 1, 60),
            SessionToken = sessionToken,
        };
        foreach (var (key, value) in tags)
        {
            response.EffectiveTags[key] = value;
        }

        return response;
    }

    public override async Task AcquireJob(IAsyncStreamReader<AcquireRequest> requestStream, IServerStreamWriter<AcquiredJob> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var daemon = await _authenticator.RequireDaemonAsync(context, DaemonAccess.Work).ConfigureAwait(false);
        await RequireFreeSlotAsync(daemon, context.CancellationToken).ConfigureAwait(false);
        using var lease = _streams.Open(daemon);
        if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            return;
        }

        switch (requestStream.Current.TypeCase)
        {
            case AcquireRequest.TypeOneofCase.Cancel:
                await responseStream.WriteAsync(new AcquiredJob(), context.CancellationToken).ConfigureAwait(false);
                return;
            case AcquireRequest.TypeOneofCase.Ready:
                break;
            default:
                throw new RpcException(new Status(StatusCode.InvalidArgument, "The first AcquireRequest must be `ready`."));
        }

        var identity = new DaemonIdentity(daemon.Id, daemon.Name, daemon.Provisioners, ProvisionerTags.FromJson(daemon.Tags));
        // A coordinator that shuts down answers every waiting slot with an empty job at once, so daemons move to
        // another replica instead of holding the shutdown until their streams time out.
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _lifetime.ApplicationStopping, lease.Ended);
        var watcher = WatchForCancelAsync(requestStream, wait);
        ProvisionerJob? job;
        try
        {
            job = await _acquirer.AcquireAsync(identity, wait.Token).ConfigureAwait(false);
        }
        finally
        {
            await wait.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }

        if (job is null && lease.Ended.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            ProvisionerDaemonServiceLog.StreamEnded(_logger, daemon.Name);
            throw new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"The session of daemon {daemon.Name} ended: its provisioner key was revoked, or another process registered under its name. Start it again with a valid key."));
        }

        if (job is null)
        {
            if (!context.CancellationToken.IsCancellationRequested)
            {
                await responseStream.WriteAsync(new AcquiredJob(), context.CancellationToken).ConfigureAwait(false);
                if (_lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // Let the daemon read the answer and hang up before the server closes its connection:
                    // a connection torn down right after the last write can lose the message in flight.
                    await AwaitDaemonHangUpAsync(requestStream, context.CancellationToken).ConfigureAwait(false);
                }
            }

            return;
        }

        try
        {
            var acquired = ProvisionerJobInputs.ToAcquiredJob(job);
            RecordQueueWait(job, acquired, daemon.Name);
            await CompleteAcquiredJobAsync(acquired, job, context.CancellationToken).ConfigureAwait(false);
            _streams.NoteHanded(daemon.Id, job.Id);
            await responseStream.WriteAsync(acquired, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            ProvisionerDaemonServiceLog.SendFailed(_logger, exception, job.Id, daemon.Name);
            await _queue.ReleaseAsync(job.Id, daemon.Id, CancellationToken.None).ConfigureAwait(false);
            _streams.NoteEnded(daemon.Id, job.Id);
            throw;
        }
    }

    /// <summary>The job's wait in the queue, from its creation until a daemon took it, as a span of the trace that queued it.</summary>
    private static void RecordQueueWait(ProvisionerJob job, AcquiredJob acquired, string daemonName)
    {
        var parent = ProvisioningTelemetry.ParentOf(acquired.TraceParent);
        if (parent == default)
        {
            return;
        }

        using var wait = ProvisioningTelemetry.Coordinator.StartActivity("queued " + job.Type.ToText(), ActivityKind.Internal, parent, startTime: job.CreatedAt);
        wait?.SetTag("provisioning.job.id", job.Id.ToString());
        wait?.SetTag("provisioning.job.queue", job.Queue);
        wait?.SetTag("provisioning.daemon.name", daemonName);
    }

    public override async Task<UpdateJobResponse> UpdateJob(UpdateJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var daemon = await _authenticator.RequireDaemonAsync(context, DaemonAccess.Report).ConfigureAwait(false);
        var jobId = ParseJobId(request.JobId);
        var cancellationToken = context.CancellationToken;
        return await MapErrorsAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var heartbeat = await Ledger.HeartbeatAsync(connection, transaction, jobId, daemon.Id, cancellationToken).ConfigureAwait(false);
            await JobLogWriter.AppendAsync(connection, transaction, jobId, request.Logs, _options.MaxJobLogBytes, cancellationToken).ConfigureAwait(false);
            var response = new UpdateJobResponse { Canceled = heartbeat.Canceled };
            if (request.TemplateVariables.Count > 0)
            {
                response.VariableValues.AddRange(await StoreTemplateVariablesAsync(connection, transaction, jobId, request, cancellationToken).ConfigureAwait(false));
            }

            if (request.WorkspaceTags.Count > 0)
            {
                // The import's coder_workspace_tags, as raw expressions: every build and dry run of the version evaluates
                // them with its own values (WorkspaceTagEvaluator). A repeated report replaces them.
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO template_version_workspace_tags (template_version_id, key, value)
                    SELECT v.id, t.key, t.value FROM template_versions v, unnest(@Keys::text[], @Values::text[]) AS t(key, value)
                    WHERE v.job_id = @JobId
                    ON CONFLICT (template_version_id, key) DO UPDATE SET value = EXCLUDED.value
                    """,
                    new { JobId = jobId, Keys = request.WorkspaceTags.Keys.ToArray(), Values = request.WorkspaceTags.Values.ToArray() },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            if (!request.Readme.IsEmpty)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE template_versions SET readme = @Readme, updated_at = now() WHERE job_id = @JobId",
                    new { JobId = jobId, Readme = request.Readme.ToStringUtf8() },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return response;
        }).ConfigureAwait(false);
    }

    public override async Task<ReportJobResponse> CompleteJob(CompletedJob request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var daemon = await _authenticator.RequireDaemonAsync(context, DaemonAccess.Report).ConfigureAwait(false);
        var jobId = ParseJobId(request.JobId);
        var response = await MapErrorsAsync(() => _reports.CompleteAsync(daemon.Id, jobId, request, context.CancellationToken)).ConfigureAwait(false);
        _streams.NoteEnded(daemon.Id, jobId);
        ProvisionerDaemonServiceLog.Reported(_logger, jobId, daemon.Name, response.Outcome.ToString(), response.Message);
        return response;
    }

    public override async Task<ReportJobResponse> FailJob(FailedJob request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var daemon = await _authenticator.RequireDaemonAsync(context, DaemonAccess.Report).ConfigureAwait(false);
        var jobId = ParseJobId(request.JobId);
        var response = await MapErrorsAsync(() => _reports.FailAsync(daemon.Id, jobId, request, context.CancellationToken)).ConfigureAwait(false);
        _streams.NoteEnded(daemon.Id, jobId);
        ProvisionerDaemonServiceLog.Reported(_logger, jobId, daemon.Name, response.Outcome.ToString(), response.Message);
        return response;
    }

    public override async Task<FileReference> UploadFile(IAsyncStreamReader<FileChunk> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        var daemon = await _authenticator.RequireDaemonAsync(context, DaemonAccess.Report).ConfigureAwait(false);
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false) || requestStream.Current.TypeCase != FileChunk.TypeOneofCase.Header)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "An upload starts with a header chunk (job_id, kind, size, sha256)."));
        }

        var header = requestStream.Current.Header;
        var jobId = ParseJobId(header.JobId);
        await RequireHeldAsync(jobId, daemon.Id, allowUnreported: true, cancellationToken).ConfigureAwait(false);
        if (header.Size < 0 || header.Size > _options.MaxUploadBytes)
        {
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                $"The file is {header.Size} bytes; this coordinator accepts at most {_options.MaxUploadBytes} (raise MaxUploadBytes / --max-upload-size to allow more)."));
        }

        var expectedHash = header.Sha256.ToLowerInvariant();
        if (expectedHash.Length != 64 || !expectedHash.All(char.IsAsciiHexDigit))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The header's sha256 must be the 64 hex digits of the whole file's SHA-256."));
        }

        StoredFile stored;
        try
        {
            stored = await _files.StoreAsync(
                ReadChunksAsync(requestStream, header.Size, cancellationToken),
                new FileUpload(header.Kind.Length > 0 ? header.Kind : "application/octet-stream", _options.MaxUploadBytes, ExpectedSize: header.Size, ExpectedSha256: expectedHash),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (FileStoreException exception)
        {
            throw new RpcException(new Status(
                exception.Kind switch
                {
                    FileStoreFailure.HashMismatch => StatusCode.DataLoss,
                    FileStoreFailure.TooLarge => StatusCode.ResourceExhausted,
                    _ => StatusCode.InvalidArgument,
                },
                exception.Message));
        }

        // The job's own files: what a terminal report of this daemon may name as the build's state.
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO provisioner_job_files (job_id, hash, daemon_id) VALUES (@JobId, @Hash, @DaemonId) ON CONFLICT (job_id, hash) DO NOTHING",
            new { JobId = jobId, stored.Hash, DaemonId = daemon.Id },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new FileReference { Id = stored.Hash, Sha256 = stored.Hash, Size = stored.Size };
    }

    public override async Task DownloadFile(DownloadFileRequest request, IServerStreamWriter<FileChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var daemon = await _authenticator.RequireDaemonAsync(context, DaemonAccess.Report).ConfigureAwait(false);
        var cancellationToken = context.CancellationToken;
        var jobId = ParseJobId(request.JobId);
        var job = await RequireHeldAsync(jobId, daemon.Id, allowUnreported: false, cancellationToken).ConfigureAwait(false);
        var fileId = request.FileId.ToLowerInvariant();

        // A daemon may read only the files its job refers to (its archive, its previous state): the exact list.
        if (!ProvisionerJobInputs.ReferencedFiles(job).Contains(fileId))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Job {jobId} does not refer to file {request.FileId}."));
        }

        var file = await _files.GetInfoAsync(fileId, cancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"File {fileId} is not stored on the coordinator."));
        await responseStream.WriteAsync(
            new FileChunk { Header = new FileChunk.Types.Header { JobId = request.JobId, Kind = file.Mimetype, Size = file.Size, Sha256 = fileId } },
            cancellationToken).ConfigureAwait(false);
        await foreach (var chunk in _files.ReadAsync(fileId, cancellationToken).ConfigureAwait(false))
        {
            for (var offset = 0; offset < chunk.Length; offset += ChunkSize)
            {
                var piece = chunk.Slice(offset, Math.Min(ChunkSize, chunk.Length - offset));
                await responseStream.WriteAsync(new FileChunk { Data = ByteString.CopyFrom(piece.Span) }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The data chunks after an upload's header, checked against the announced size as they arrive.</summary>
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunksAsync(
        IAsyncStreamReader<FileChunk> requestStream, long size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long received = 0;
        while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var chunk = requestStream.Current;
            if (chunk.TypeCase != FileChunk.TypeOneofCase.Data)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "Only data chunks may follow the header."));
            }

            received += chunk.Data.Length;
            if (received > size)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"More data arrived than the header's size of {size} bytes."));
            }

            yield return chunk.Data.Memory;
        }
    }

    /// <summary>
    /// Refuses a stream beyond the daemon's declared slots (its unfinished jobs plus its waiting streams on this
    /// process). The claim statement enforces the same count across replicas; this answers the daemon clearly.
    /// The jobs it holds are counted from what this process handed it and has not seen reported, and read from the
    /// ledger only when that count leaves no free slot (docs/decisions/0008-performance-where-users-feel-it.md):
    /// a stream opened while the daemon holds jobs through another replica is let through, and the claim
    /// statement gives it no job until a slot frees.
    /// </summary>
    private async Task RequireFreeSlotAsync(DaemonRecord daemon, CancellationToken cancellationToken)
    {
        var waiting = _streams.CountOpen(daemon);
        if (waiting >= daemon.Slots)
        {
            throw SlotsExhausted(daemon, held: null, waiting);
        }

        if (waiting + _streams.CountHanded(daemon.Id) < daemon.Slots)
        {
            return;
        }

        var held = await Ledger.ListUnfinishedAsync(daemon.Id, cancellationToken).ConfigureAwait(false);
        _streams.ResetHanded(daemon.Id, held);
        if (held.Count + waiting < daemon.Slots)
        {
            return;
        }

        throw SlotsExhausted(daemon, held.Count, waiting);
    }

    private static RpcException SlotsExhausted(DaemonRecord daemon, long? held, int waiting) => new(new Status(
        StatusCode.ResourceExhausted,
        $"Daemon {daemon.Name} declared {daemon.Slots} slot(s) and already uses them ({(held is { } count ? $"{count} job(s) held, " : string.Empty)}{waiting} acquisition stream(s) open): "
        + "finish a job or close a stream first, or register with more --slots."));

    private static async Task WatchForCancelAsync(IAsyncStreamReader<AcquireRequest> requestStream, CancellationTokenSource wait)
    {
        try
        {
            while (await requestStream.MoveNext(wait.Token).ConfigureAwait(false))
            {
                if (requestStream.Current.TypeCase == AcquireRequest.TypeOneofCase.Cancel)
                {
                    await wait.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException || (exception is RpcException rpc && rpc.StatusCode == StatusCode.Cancelled))
        {
            // The wait ended (job found) or the daemon went away; the call's own token covers the latter.
        }
    }

    private static async Task AwaitDaemonHangUpAsync(IAsyncStreamReader<AcquireRequest> requestStream, CancellationToken cancellationToken)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            while (await requestStream.MoveNext(patience.Token).ConfigureAwait(false))
            {
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException || (exception is RpcException rpc && rpc.StatusCode == StatusCode.Cancelled))
        {
            // The daemon did not hang up in time (or is gone); the shutdown goes on.
        }
    }

    private async Task CompleteAcquiredJobAsync(AcquiredJob acquired, ProvisionerJob job, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (acquired.TemplateSourceArchive is null && job.FileHash is { } hash)
        {
            var size = (await FileStore.GetInfoAsync(connection, null, hash, cancellationToken).ConfigureAwait(false))?.Size;
            acquired.TemplateSourceArchive = new Blob { File = new FileReference { Id = hash, Sha256 = hash, Size = size ?? 0 } };
        }

        if (acquired.UserName.Length == 0 && job.InitiatorId is { } initiator)
        {
            acquired.UserName = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT username FROM users WHERE id = @Id", new { Id = initiator }, cancellationToken: cancellationToken)).ConfigureAwait(false) ?? string.Empty;
        }
    }

    private static async Task<IReadOnlyList<VariableValue>> StoreTemplateVariablesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, UpdateJobRequest request, CancellationToken cancellationToken)
    {
        var given = request.UserVariableValues.ToDictionary(value => value.Name, value => value.Value, StringComparer.Ordinal);
        var versionId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT id FROM template_versions WHERE job_id = @JobId", new { JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var resolved = new List<VariableValue>();
        foreach (var variable in request.TemplateVariables)
        {
            string? value;
            if (given.TryGetValue(variable.Name, out var givenValue))
            {
                value = givenValue;
            }
            else if (!variable.Required)
            {
                // No value: Terraform applies the template's own default. Passing the default back as a
                // value would turn typed defaults (null, numbers, objects) into strings.
                value = null;
            }
            else
            {
                throw new RpcException(new Status(
                    StatusCode.FailedPrecondition,
                    $"Template variable '{variable.Name}' is required and has no value: push the template again with --variable {variable.Name}=VALUE."));
            }

            if (value is not null)
            {
                resolved.Add(new VariableValue { Name = variable.Name, Value = value, Sensitive = variable.Sensitive });
            }

            if (versionId is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO template_version_variables (template_version_id, name, description, type, value, default_value, required, sensitive)
                    VALUES (@VersionId, @Name, @Description, @Type, @Value, @DefaultValue, @Required, @Sensitive)
                    ON CONFLICT (template_version_id, name) DO UPDATE SET description = EXCLUDED.description, type = EXCLUDED.type,
                        value = EXCLUDED.value, default_value = EXCLUDED.default_value, required = EXCLUDED.required, sensitive = EXCLUDED.sensitive
                    """,
                    new { VersionId = versionId, variable.Name, variable.Description, variable.Type, Value = value, variable.DefaultValue, variable.Required, variable.Sensitive },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }

        return resolved;
    }

    /// <summary>
    /// The job, when this daemon holds it and it has not ended. With <paramref name="allowUnreported"/>, also a job
    /// that ended without this daemon's report (reaped, canceled while the daemon was away): its daemon may still
    /// upload the state it has, for the late report that follows (invariant 3).
    /// </summary>
    private async Task<ProvisionerJob> RequireHeldAsync(Guid jobId, Guid daemonId, bool allowUnreported, CancellationToken cancellationToken)
    {
        var job = await Ledger.GetAsync(jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Job {jobId} does not exist."));
        if (job.WorkerId != daemonId)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Job {jobId} is not held by this daemon."));
        }

        if (job.Status.IsTerminal() && !(allowUnreported && !await Ledger.WasReportedAsync(jobId, cancellationToken).ConfigureAwait(false)))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Job {jobId} has already ended ({job.Status.ToText()})."));
        }

        return job;
    }

    private static Guid ParseJobId(string value) =>
        Guid.TryParse(value, out var jobId)
            ? jobId
            : throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{value}' is not a job id (a UUID)."));

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static async Task<T> MapErrorsAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ProvisionerJobNotFoundException exception)
        {
            throw new RpcException(new Status(StatusCode.NotFound, exception.Message));
        }
        catch (ProvisionerJobOwnershipException exception)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, exception.Message));
        }
        catch (ArgumentException exception)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, exception.Message));
        }
    }
}
