using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Provisioning.Sdk.Archives;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// Runs sessions of an <see cref="IProvisioner"/> and enforces the session protocol, so that every
/// transport (in-process, gRPC) behaves the same: Config first, its template extracted into a fresh
/// work directory (removed when the session ends); then one request at a time, each answered by its
/// Logs and exactly one Complete; Cancel cancels the running request, which still answers; Apply
/// only after a successful Plan in the same session.
/// </summary>
/// <remarks>
/// Protocol errors (no Config first, a second Config, a request while another runs, a request with no
/// type, an unsafe template archive) end the session: <see cref="RunAsync"/> throws
/// <see cref="ProvisionerSessionException"/> after the running request, if any, was canceled and answered.
/// One host may run any number of sessions at once; each <see cref="RunAsync"/> call is one session.
/// </remarks>
public sealed class ProvisionerSessionHost
{
    /// <summary>The error text of a Complete whose request was canceled (the provisioner threw <see cref="OperationCanceledException"/>).</summary>
    public const string CanceledError = "canceled";

    private readonly IProvisioner _provisioner;
    private readonly ProvisionerSessionHostOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a host for <paramref name="provisioner"/>.</summary>
    /// <param name="provisioner">The provisioner that handles the requests of every session.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="logger">Receives protocol errors and cleanup failures; none when null.</param>
    public ProvisionerSessionHost(IProvisioner provisioner, ProvisionerSessionHostOptions? options = null, ILogger<ProvisionerSessionHost>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(provisioner);
        _provisioner = provisioner;
        _options = options ?? new ProvisionerSessionHostOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs one session until <paramref name="requests"/> ends, a protocol error, or cancellation.</summary>
    /// <param name="requests">The requests of the session, in order.</param>
    /// <param name="sendResponse">Sends one response; never called concurrently.</param>
    /// <param name="cancellationToken">Ends the session, canceling the running request.</param>
    /// <exception cref="ProvisionerSessionException">The session broke the protocol or its template archive was refused.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task RunAsync(IAsyncEnumerable<Request> requests, Func<Response, CancellationToken, ValueTask> sendResponse, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(sendResponse);
        var session = new SessionRun(this, sendResponse);
        await session.RunAsync(requests, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A read-only stream over the archive bytes, without copying them when they sit in an array (templates can be large).</summary>
    private static MemoryStream AsStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private static Response ErrorComplete(Request.TypeOneofCase type, string error) => type switch
    {
        Request.TypeOneofCase.Parse => new Response { Parse = new ParseComplete { Error = error } },
        Request.TypeOneofCase.Plan => new Response { Plan = new PlanComplete { Error = error } },
        Request.TypeOneofCase.Apply => new Response { Apply = new ApplyComplete { Error = error } },
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Only Parse, Plan and Apply have a Complete."),
    };

    /// <summary>The state of one session.</summary>
    private sealed class SessionRun(ProvisionerSessionHost host, Func<Response, CancellationToken, ValueTask> sendResponse)
    {
        private readonly Channel<Response> _responses = Channel.CreateBounded<Response>(new BoundedChannelOptions(host._options.ResponseBufferSize)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        private readonly Lock _gate = new();
        private InFlightRequest? _inFlight;
        private Task _lastRequest = Task.CompletedTask;
        private volatile bool _planSucceeded;
        private ProvisionerSession? _session;
        private string? _workDirectory;
        private Exception? _sendFailure;

        private sealed record InFlightRequest(Request.TypeOneofCase Type, CancellationTokenSource Cancellation);

        public async Task RunAsync(IAsyncEnumerable<Request> requests, CancellationToken cancellationToken)
        {
            using var sessionCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sessionToken = sessionCancellation.Token;
            var pump = PumpAsync(sessionCancellation);
            ProvisionerSessionException? protocolError = null;
            var inputEnded = false;
            try
            {
                await foreach (var request in requests.WithCancellation(sessionToken).ConfigureAwait(false))
                {
                    await DispatchAsync(request, sessionToken).ConfigureAwait(false);
                }

                inputEnded = true;
            }
            catch (ProvisionerSessionException ex)
            {
                protocolError = ex;
                ProvisionerLog.ProtocolError(host._logger, ex.Message);
            }
            finally
            {
                // When the daemon closed its side cleanly it still waits for the running request's Complete;
                // on any other end (protocol error, cancellation, a broken transport) nobody will, so stop it.
                if (!inputEnded || sessionToken.IsCancellationRequested)
                {
                    CancelInFlight();
                }

                // The running request answers before the session ends, also when it was canceled.
                await _lastRequest.ConfigureAwait(false);
                _responses.Writer.TryComplete();
                await pump.ConfigureAwait(false);
                RemoveWorkDirectory();
            }

            if (protocolError is not null)
            {
                throw protocolError;
            }

            if (_sendFailure is not null)
            {
                throw new ProvisionerSessionException($"The provisioner session ended because a response could not be sent: {_sendFailure.Message}", _sendFailure);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        private async Task DispatchAsync(Request request, CancellationToken sessionToken)
        {
            var type = request.TypeCase;
            if (type == Request.TypeOneofCase.None)
            {
                throw new ProvisionerSessionException("A request arrived with no type set. Set one of Config, Parse, Plan, Apply or Cancel.");
            }

            if (type == Request.TypeOneofCase.Config)
            {
                if (_session is not null)
                {
                    throw new ProvisionerSessionException("A second Config arrived; a session has exactly one Config, sent first. Open a new session for another template.");
                }

                await OpenAsync(request.Config, sessionToken).ConfigureAwait(false);
                return;
            }

            if (_session is null)
            {
                throw new ProvisionerSessionException($"The first request of a session must be Config, but {type} arrived first. Send Config (template archive, prior state, log level) before Parse, Plan or Apply.");
            }

            lock (_gate)
            {
                if (type == Request.TypeOneofCase.Cancel)
                {
                    // A Cancel that finds nothing running raced the Complete it meant to interrupt: nothing to do.
                    // Canceling under the lock keeps the source from being disposed meanwhile.
                    _inFlight?.Cancellation.Cancel();
                    return;
                }

                if (_inFlight is not null)
                {
                    throw new ProvisionerSessionException($"{type} arrived while {_inFlight.Type} was still running. Send one request at a time: wait for its Complete (send Cancel to stop it early).");
                }

                var inFlight = new InFlightRequest(type, CancellationTokenSource.CreateLinkedTokenSource(sessionToken));
                _inFlight = inFlight;
                var session = _session;
                _lastRequest = Task.Run(() => ExecuteAsync(session, request, inFlight, sessionToken), CancellationToken.None);
            }
        }

        private async Task OpenAsync(Config config, CancellationToken sessionToken)
        {
            var root = host._options.WorkDirectoryRoot ?? Path.GetTempPath();
            var workDirectory = Path.Combine(Path.GetFullPath(root), "provisioning-session-" + Guid.NewGuid().ToString("N")[..16]);
            _workDirectory = workDirectory;
            TemplateArchiveSummary summary;
            try
            {
                using var archive = AsStream(config.TemplateSourceArchive.Memory);
                summary = await TemplateArchiveExtractor.ExtractAsync(archive, workDirectory, host._options.ArchiveLimits, sessionToken).ConfigureAwait(false);
            }
            catch (TemplateArchiveException ex)
            {
                throw new ProvisionerSessionException($"The template archive in Config was refused: {ex.Message}", ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ProvisionerSessionException($"The template could not be extracted into '{workDirectory}': {ex.Message}. Check the free space and permissions of ProvisionerSessionHostOptions.WorkDirectoryRoot ('{root}').", ex);
            }

            ProvisionerLog.SessionOpened(host._logger, workDirectory, summary.FileCount, summary.TotalBytes);
            _session = new ProvisionerSession(workDirectory, config, SendLogAsync);
        }

        private async Task ExecuteAsync(ProvisionerSession session, Request request, InFlightRequest inFlight, CancellationToken sessionToken)
        {
            var type = request.TypeCase;
            var token = inFlight.Cancellation.Token;
            Response complete;
            try
            {
                complete = type switch
                {
                    Request.TypeOneofCase.Parse => new Response { Parse = await host._provisioner.ParseAsync(session, request.Parse, token).ConfigureAwait(false) },
                    Request.TypeOneofCase.Plan => new Response { Plan = await PlanAsync(session, request.Plan, token).ConfigureAwait(false) },
                    Request.TypeOneofCase.Apply => new Response { Apply = await ApplyAsync(session, request.Apply, token).ConfigureAwait(false) },
                    _ => throw new InvalidOperationException($"Unexpected request type {type}."),
                };
            }
            catch (OperationCanceledException)
            {
                complete = ErrorComplete(type, CanceledError);
            }
            catch (Exception ex)
            {
                ProvisionerLog.RequestFailed(host._logger, ex, type);
                complete = ErrorComplete(type, string.IsNullOrEmpty(ex.Message) ? ex.GetType().Name : ex.Message);
            }

            if (type == Request.TypeOneofCase.Plan)
            {
                _planSucceeded = string.IsNullOrEmpty(complete.Plan?.Error);
            }

            // Cleared before the Complete is queued: once the daemon sees the Complete it may send the next request.
            lock (_gate)
            {
                _inFlight = null;
                inFlight.Cancellation.Dispose();
            }

            try
            {
                await _responses.Writer.WriteAsync(complete, sessionToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
            {
                // The session is ending and nobody can receive the Complete any more.
            }
        }

        private async Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken token)
        {
            var result = await host._provisioner.PlanAsync(session, request, token).ConfigureAwait(false);
            return result ?? throw new InvalidOperationException("The provisioner returned no PlanComplete.");
        }

        private async Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken token)
        {
            if (!_planSucceeded)
            {
                return new ApplyComplete { Error = "Apply requires a successful Plan earlier in the same session. Send Plan, wait for a PlanComplete without error, then send Apply." };
            }

            var result = await host._provisioner.ApplyAsync(session, request, token).ConfigureAwait(false);
            return result ?? throw new InvalidOperationException("The provisioner returned no ApplyComplete.");
        }

        private async ValueTask SendLogAsync(Log log, CancellationToken cancellationToken)
        {
            try
            {
                await _responses.Writer.WriteAsync(new Response { Log = log }, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                // Logged after the session ended: there is nobody left to read it.
            }
        }

        private async Task PumpAsync(CancellationTokenSource sessionCancellation)
        {
            // Yield first so RunAsync reaches its read loop without waiting on the transport.
            await Task.Yield();
            try
            {
                await foreach (var response in _responses.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    await sendResponse(response, sessionCancellation.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                if (!sessionCancellation.IsCancellationRequested)
                {
                    _sendFailure = ex;
                    ProvisionerLog.SendFailed(host._logger, ex);
                }

                // Nothing more can be delivered: stop the session, and keep draining so writers never wait forever.
                await sessionCancellation.CancelAsync().ConfigureAwait(false);
                await foreach (var unused in _responses.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                }
            }
        }

        private void CancelInFlight()
        {
            lock (_gate)
            {
                _inFlight?.Cancellation.Cancel();
            }
        }

        private void RemoveWorkDirectory()
        {
            if (_workDirectory is null || !Directory.Exists(_workDirectory))
            {
                return;
            }

            try
            {
                // Recursive delete removes links themselves, never what they point to.
                Directory.Delete(_workDirectory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ProvisionerLog.CleanupFailed(host._logger, ex, _workDirectory);
            }
        }
    }
}
