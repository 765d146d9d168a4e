using System.Security.Cryptography;

using Google.Protobuf;

using Grpc.Core;
using Grpc.Net.Client;

using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Operability;
using Provisioning.Sdk.Daemon;

using DaemonService = Provisioning.Sdk.Daemon.ProvisionerDaemon;

namespace Provisioning.Daemon.Coordinator;

/// <summary>
/// The daemon's side of <c>provisionerd.proto</c>: one channel to the coordinator, credentials on
/// every call, and the bookkeeping of whether the coordinator is reachable (for <c>/readyz</c> and
/// metrics). Transient failures are retried here with backoff; what is final is thrown.
/// </summary>
internal sealed class CoordinatorConnection : IDisposable
{
    internal const string KeyHeader = "provisioning-provisioner-key";
    internal const string PskHeader = "provisioning-provisioner-psk";

    /// <summary>The session token Register returned, sent on every later call (job calls are checked against their owner, proven by this secret).</summary>
    internal const string SessionHeader = "provisioning-daemon-session";
    private const int ChunkSize = 256 * 1024;

    private readonly GrpcChannel _channel;
    private readonly DaemonService.ProvisionerDaemonClient _client;
    private readonly Metadata _credentials;
    private volatile Metadata _headers;
    private readonly ProvisionerDaemonOptions _options;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _logger;
    private int _connected;
    private int _sessionGeneration;

    public CoordinatorConnection(ProvisionerDaemonOptions options, DaemonMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            // An acquisition stream can wait for hours; pings find a dead connection (no RST after a
            // network partition) so the slot reconnects instead of waiting forever.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            // Up to 64 slots each hold a stream; do not queue behind one connection's stream limit.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        options.Tls.ApplyTo(handler);
        _channel = GrpcChannel.ForAddress(options.CoordinatorUrl!, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // States and archives are chunked, but parse results and resource lists can still exceed 4 MiB.
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            // The channel's own reconnect backoff (default up to 120 s) would keep failing calls long after
            // the coordinator is back; the daemon's retry loops already back off with jitter.
            InitialReconnectBackoff = options.ReconnectInitialDelay,
            MaxReconnectBackoff = options.ReconnectMaxDelay,
        });
        _client = new DaemonService.ProvisionerDaemonClient(_channel);
        _credentials = !string.IsNullOrWhiteSpace(options.ProvisionerKey)
            ? new Metadata { { KeyHeader, options.ProvisionerKey } }
            : new Metadata { { PskHeader, options.PreSharedKey! } };
        _headers = _credentials;
    }

    /// <summary>Whether the last call reached the coordinator.</summary>
    public bool IsConnected => Volatile.Read(ref _connected) == 1;

    public DaemonService.ProvisionerDaemonClient Client => _client;

    /// <summary>Counts the sessions this connection has had: it changes with every <see cref="SetSession"/>.</summary>
    public int SessionGeneration => Volatile.Read(ref _sessionGeneration);

    /// <summary>Sends the session <paramref name="sessionToken"/> (from Register) on every later call.</summary>
    public void SetSession(string sessionToken)
    {
        Interlocked.Increment(ref _sessionGeneration);
        var headers = new Metadata();
        foreach (var entry in _credentials)
        {
            headers.Add(entry);
        }

        if (!string.IsNullOrEmpty(sessionToken))
        {
            headers.Add(SessionHeader, sessionToken);
        }

        _headers = headers;
    }

    /// <summary>Whether a failure is worth retrying: the coordinator is unreachable, restarting or overloaded.</summary>
    public static bool IsTransient(RpcException exception) => exception.StatusCode is
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown
        or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled;

    /// <summary>Whether the coordinator refused the daemon's credentials.</summary>
    public static bool IsAuthRefusal(RpcException exception) =>
        exception.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;

    public void MarkConnected()
    {
        if (Interlocked.Exchange(ref _connected, 1) == 0)
        {
            _metrics.SetConnected(true);
            DaemonLog.Connected(_logger, _options.CoordinatorUrl!);
        }
    }

    public void MarkDisconnected(RpcException exception)
    {
        if (Interlocked.Exchange(ref _connected, 0) == 1)
        {
            _metrics.SetConnected(false);
            DaemonLog.Disconnected(_logger, _options.CoordinatorUrl!, exception.StatusCode, exception.Status.Detail);
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> until it succeeds, waiting with backoff after transient failures.
    /// Final failures (refusals, unknown jobs) are thrown.
    /// </summary>
    /// <param name="call">The call to make.</param>
    /// <param name="cancellationToken">Stops retrying.</param>
    /// <param name="onRetry">Told of each transient failure and the wait before the next attempt (progress in the daemon's log).</param>
    public async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken, Action<RpcException, TimeSpan>? onRetry = null)
    {
        var backoff = new ReconnectBackoff(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var result = await call(cancellationToken).ConfigureAwait(false);
                MarkConnected();
                return result;
            }
            catch (RpcException ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                MarkDisconnected(ex);
                var delay = backoff.NextDelay();
                onRetry?.Invoke(ex, delay);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken) =>
        _client.RegisterAsync(request, _credentials, cancellationToken: cancellationToken).ResponseAsync;

    public AsyncDuplexStreamingCall<AcquireRequest, AcquiredJob> AcquireJob(CancellationToken cancellationToken) =>
        _client.AcquireJob(_headers, cancellationToken: cancellationToken);

    public Task<UpdateJobResponse> UpdateJobAsync(UpdateJobRequest request, CancellationToken cancellationToken) =>
        _client.UpdateJobAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync;

    public async Task<ReportJobResponse> CompleteJobAsync(CompletedJob request, CancellationToken cancellationToken)
    {
        var response = await _client.CompleteJobAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
        LogReportOutcome(request.JobId, response);
        return response;
    }

    public async Task<ReportJobResponse> FailJobAsync(FailedJob request, CancellationToken cancellationToken)
    {
        var response = await _client.FailJobAsync(request, _headers, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
        LogReportOutcome(request.JobId, response);
        return response;
    }

    /// <summary>A report that arrived after its job ended says what became of its state; the operator must see that.</summary>
    private void LogReportOutcome(string jobId, ReportJobResponse response)
    {
        if (response.Outcome is not (ReportJobResponse.Types.Outcome.Recorded or ReportJobResponse.Types.Outcome.AlreadyRecorded))
        {
            DaemonLog.LateReport(_logger, jobId, response.Outcome, response.Message);
        }
    }

    /// <summary>Downloads a file a job refers to, checking its size and SHA-256 against the reference.</summary>
    public async Task<byte[]> DownloadAsync(string jobId, FileReference reference, CancellationToken cancellationToken)
    {
        using var call = _client.DownloadFile(new DownloadFileRequest { JobId = jobId, FileId = reference.Id }, _headers, cancellationToken: cancellationToken);
        using var buffer = new MemoryStream();
        FileChunk.Types.Header? header = null;
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (chunk.TypeCase)
            {
                case FileChunk.TypeOneofCase.Header when header is null:
                    header = chunk.Header;
                    break;
                case FileChunk.TypeOneofCase.Data when header is not null:
                    chunk.Data.WriteTo(buffer);
                    break;
                default:
                    throw new InvalidDataException($"The coordinator sent file {reference.Id} out of order ({chunk.TypeCase} {(header is null ? "before" : "after")} the header); the coordinator breaks the protocol.");
            }
        }

        var bytes = buffer.ToArray();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (bytes.LongLength != reference.Size || !string.Equals(sha256, reference.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"File {reference.Id} arrived corrupted: {bytes.LongLength} bytes with SHA-256 {sha256}, but the job names {reference.Size} bytes with SHA-256 {reference.Sha256}.");
        }

        return bytes;
    }

    /// <summary>Uploads a file for a job in chunks and returns the reference the coordinator gave it.</summary>
    public async Task<FileReference> UploadAsync(string jobId, string kind, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        using var call = _client.UploadFile(_headers, cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new FileChunk
        {
            Header = new FileChunk.Types.Header
            {
                JobId = jobId,
                Kind = kind,
                Size = content.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span)),
            },
        }, cancellationToken).ConfigureAwait(false);
        for (var offset = 0; offset < content.Length; offset += ChunkSize)
        {
            var length = Math.Min(ChunkSize, content.Length - offset);
            await call.RequestStream.WriteAsync(new FileChunk { Data = ByteString.CopyFrom(content.Span.Slice(offset, length)) }, cancellationToken).ConfigureAwait(false);
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    public void Dispose() => _channel.Dispose();
}
