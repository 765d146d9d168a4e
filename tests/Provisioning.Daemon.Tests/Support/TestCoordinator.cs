using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Threading.Channels;

using Google.Protobuf;

using Grpc.Core;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Provisioning.Sdk.Daemon;

using DaemonService = Provisioning.Sdk.Daemon.ProvisionerDaemon;

namespace Provisioning.Daemon.Tests.Support;

/// <summary>
/// A protocol peer for the daemon's tests, not a coordinator: a real gRPC server (Kestrel, HTTP/2 on
/// 127.0.0.1) implementing <c>provisionerd.proto</c> over an in-memory job queue, with knobs to refuse
/// credentials, refuse terminal reports, cancel jobs and go away for a while. It checks what the
/// protocol requires (credentials, job ownership, file hashes) and records everything the daemon sent.
/// </summary>
public sealed class TestCoordinator : DaemonService.ProvisionerDaemonBase, IAsyncDisposable
{
    public const string Psk = "test-psk";

    private readonly Channel<TestJob> _queue = Channel.CreateUnbounded<TestJob>();
    private readonly ConcurrentDictionary<string, TestJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RegisterRequest> _registrations = new();
    private readonly ConcurrentDictionary<string, string> _daemons = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;
    private WebApplication? _server;
    private int _port;
    private int _waiting;
    private int _held;
    private int _maxHeld;
    private int _canceledAcquisitions;
    private int _refuseTerminalReports;
    private int _jobCounter;

    private TestCoordinator()
    {
    }

    public Uri Address => new($"http://127.0.0.1:{_port}");

    /// <summary>When set, CompleteJob answers InvalidArgument (results the coordinator cannot accept).</summary>
    public bool RefuseResults { get; set; }

    /// <summary>When set, CompleteJob and FailJob answer with this status: a report the coordinator will never accept.</summary>
    public StatusCode? RefuseReportsForGood { get; set; }

    /// <summary>The heartbeat interval Register asks for. Default: 5.</summary>
    public int HeartbeatIntervalSeconds { get; set; } = 5;

    /// <summary>When set, Register and AcquireJob answer PermissionDenied whatever the credentials.</summary>
    public bool RevokeCredentials { get; set; }

    /// <summary>Acquisition streams waiting for a job now.</summary>
    public int WaitingAcquisitions => Volatile.Read(ref _waiting);

    /// <summary>The most jobs held by daemons at the same time (acquired, not yet reported).</summary>
    public int MaxConcurrentJobs => Volatile.Read(ref _maxHeld);

    /// <summary>Acquisitions that ended with the daemon's Cancel.</summary>
    public int CanceledAcquisitions => Volatile.Read(ref _canceledAcquisitions);

    public IReadOnlyList<RegisterRequest> Registrations => [.. _registrations];

    public IReadOnlyDictionary<string, byte[]> Files => _files;

    public static async Task<TestCoordinator> StartAsync(int port = 0)
    {
        var coordinator = new TestCoordinator { _port = port };
        await coordinator.StartServerAsync().ConfigureAwait(false);
        return coordinator;
    }

    /// <summary>A free TCP port on 127.0.0.1 (for a coordinator that starts after the daemon).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Refuses the next <paramref name="count"/> CompleteJob/FailJob calls with Unavailable.</summary>
    public void RefuseTerminalReports(int count) => Volatile.Write(ref _refuseTerminalReports, count);

    /// <summary>Stops serving (connections are refused) for <paramref name="downtime"/>, keeping every job, then serves again on the same port.</summary>
    public async Task GoAwayAsync(TimeSpan downtime)
    {
        var server = _server!;
        _server = null;
        await StopQuicklyAsync(server).ConfigureAwait(false);
        await Task.Delay(downtime).ConfigureAwait(false);
        await StartServerAsync().ConfigureAwait(false);
    }

    /// <summary>Stores a file, as the coordinator stores uploaded templates, and returns its reference.</summary>
    public FileReference AddFile(byte[] content)
    {
        var id = "file-" + Guid.NewGuid().ToString("N");
        _files[id] = content;
        return new FileReference { Id = id, Size = content.LongLength, Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)) };
    }

    /// <summary>Queues a job; its id is assigned when empty.</summary>
    public TestJob Enqueue(AcquiredJob job)
    {
        if (string.IsNullOrEmpty(job.JobId))
        {
            job.JobId = $"job-{Interlocked.Increment(ref _jobCounter)}-{Guid.NewGuid():N}";
        }

        var testJob = new TestJob(job);
        _jobs[job.JobId] = testJob;
        _queue.Writer.TryWrite(testJob);
        return testJob;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is { } server)
        {
            await StopQuicklyAsync(server).ConfigureAwait(false);
        }
    }

    public override Task<RegisterResponse> Register(RegisterRequest request, ServerCallContext context)
    {
        Authenticate(context);
        _registrations.Enqueue(request);
        var daemonId = Guid.NewGuid().ToString();
        var session = $"{Guid.Parse(daemonId):N}.{Guid.NewGuid():N}";
        _daemons[daemonId] = request.Daemon.Name;
        _sessions[session] = daemonId;
        var response = new RegisterResponse { DaemonId = daemonId, HeartbeatIntervalSeconds = HeartbeatIntervalSeconds, SessionToken = session };
        response.EffectiveTags.Add(request.Daemon.Tags);
        return Task.FromResult(response);
    }

    public override async Task AcquireJob(IAsyncStreamReader<AcquireRequest> requestStream, IServerStreamWriter<AcquiredJob> responseStream, ServerCallContext context)
    {
        var daemonId = RequireDaemon(context);
        var token = context.CancellationToken;
        if (!await requestStream.MoveNext(token).ConfigureAwait(false) || requestStream.Current.TypeCase != AcquireRequest.TypeOneofCase.Ready)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Send AcquireRequest.ready first."));
        }

        Interlocked.Increment(ref _waiting);
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(token);
        var canceled = requestStream.MoveNext(token);
        var dequeued = _queue.Reader.ReadAsync(stopWaiting.Token).AsTask();
        try
        {
            await Task.WhenAny(canceled, dequeued).ConfigureAwait(false);
            if (!dequeued.IsCompleted)
            {
                await stopWaiting.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await dequeued.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        if (dequeued.IsCompletedSuccessfully)
        {
            // A job dequeued after the daemon's Cancel still goes to it: the protocol says the daemon must run it.
            var job = dequeued.Result;
            job.Owner = daemonId;
            job.AcquiredAt = DateTimeOffset.UtcNow;
            Hold();
            await responseStream.WriteAsync(job.Job, CancellationToken.None).ConfigureAwait(false);

            // Never return with a read pending: Kestrel reuses the stream's pipe for the next request.
            await AwaitQuietlyAsync(canceled).ConfigureAwait(false);
            return;
        }

        if (canceled.IsCompletedSuccessfully && canceled.Result && requestStream.Current.TypeCase == AcquireRequest.TypeOneofCase.Cancel)
        {
            Interlocked.Increment(ref _canceledAcquisitions);
            await responseStream.WriteAsync(new AcquiredJob(), CancellationToken.None).ConfigureAwait(false);
        }
    }

    public override Task<UpdateJobResponse> UpdateJob(UpdateJobRequest request, ServerCallContext context)
    {
        var job = Held(request.JobId, context);
        var response = new UpdateJobResponse { Canceled = job.CancelRequested };

        // Only values the user gave: Terraform applies the template's own defaults to the rest. A required
        // variable without a value is refused, as the coordinator does, and nothing of the request is kept.
        foreach (var variable in request.TemplateVariables)
        {
            if (request.UserVariableValues.FirstOrDefault(value => value.Name == variable.Name) is { } given)
            {
                response.VariableValues.Add(new Sdk.Protocol.VariableValue { Name = variable.Name, Value = given.Value, Sensitive = variable.Sensitive });
            }
            else if (variable.Required)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Template variable '{variable.Name}' is required and has no value."));
            }
        }

        job.AddUpdate(request);
        return Task.FromResult(response);
    }

    public override Task<ReportJobResponse> CompleteJob(CompletedJob request, ServerCallContext context)
    {
        var job = Held(request.JobId, context);
        RefuseIfAsked(job);
        if (RefuseReportsForGood is { } status)
        {
            throw new RpcException(new Status(status, "Refused for good on purpose by the test."));
        }
        if (RefuseResults)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The results are malformed (refused on purpose by the test)."));
        }

        Report(job, new TerminalReport(request, null));
        return Task.FromResult(new ReportJobResponse());
    }

    public override Task<ReportJobResponse> FailJob(FailedJob request, ServerCallContext context)
    {
        var job = Held(request.JobId, context);
        RefuseIfAsked(job);
        if (RefuseReportsForGood is { } status)
        {
            throw new RpcException(new Status(status, "Refused for good on purpose by the test."));
        }
        Report(job, new TerminalReport(null, request));
        return Task.FromResult(new ReportJobResponse());
    }

    public override async Task<FileReference> UploadFile(IAsyncStreamReader<FileChunk> requestStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false) || requestStream.Current.TypeCase != FileChunk.TypeOneofCase.Header)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Send the header first."));
        }

        var header = requestStream.Current.Header;
        Held(header.JobId, context);
        using var content = new MemoryStream();
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            requestStream.Current.Data.WriteTo(content);
        }

        var bytes = content.ToArray();
        var reference = AddFile(bytes);
        if (reference.Size != header.Size || !string.Equals(reference.Sha256, header.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(new Status(StatusCode.DataLoss, "The upload does not match its header's size and SHA-256."));
        }

        return reference;
    }

    public override async Task DownloadFile(DownloadFileRequest request, IServerStreamWriter<FileChunk> responseStream, ServerCallContext context)
    {
        Held(request.JobId, context);
        if (!_files.TryGetValue(request.FileId, out var content))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"No file {request.FileId}."));
        }

        await responseStream.WriteAsync(new FileChunk
        {
            Header = new FileChunk.Types.Header { JobId = request.JobId, Size = content.LongLength, Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)) },
        }).ConfigureAwait(false);
        const int chunk = 64 * 1024;
        for (var offset = 0; offset < content.Length; offset += chunk)
        {
            await responseStream.WriteAsync(new FileChunk { Data = ByteString.CopyFrom(content, offset, Math.Min(chunk, content.Length - offset)) }).ConfigureAwait(false);
        }
    }

    public TestJob Job(string id) => _jobs[id];

    private static async Task AwaitQuietlyAsync(Task<bool> read)
    {
        try
        {
            await read.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException or InvalidOperationException)
        {
            // The daemon went away or never closed its side; the call ends either way.
        }
    }

    private static async Task StopQuicklyAsync(WebApplication server)
    {
        // Open acquisition streams would hold a graceful stop for the default 30 s; abort them after a moment.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await server.StopAsync(timeout.Token).ConfigureAwait(false);
        await server.DisposeAsync().ConfigureAwait(false);
    }

    private async Task StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(_output));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(this);
        var server = builder.Build();
        server.MapGrpcService<TestCoordinator>();
        await server.StartAsync().ConfigureAwait(false);
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _port = new Uri(address).Port;
        _server = server;
    }

    private void Authenticate(ServerCallContext context)
    {
        var psk = context.RequestHeaders.GetValue("provisioning-provisioner-psk");
        if (psk is null && context.RequestHeaders.GetValue("provisioning-provisioner-key") is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "No provisioner key or pre-shared key was given."));
        }

        if (RevokeCredentials || psk != Psk)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "The pre-shared key is not valid."));
        }
    }

    /// <summary>Checks credentials and the daemon id Register gave, as the coordinator does on every call after Register.</summary>
    private string RequireDaemon(ServerCallContext context)
    {
        Authenticate(context);
        var session = context.RequestHeaders.GetValue("provisioning-daemon-session");
        if (session is null || !_sessions.TryGetValue(session, out var daemonId) || !_daemons.ContainsKey(daemonId))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Call Register first and send the session token it returns in 'provisioning-daemon-session'."));
        }

        return daemonId;
    }

    private TestJob Held(string jobId, ServerCallContext context)
    {
        var daemonId = RequireDaemon(context);
        if (!_jobs.TryGetValue(jobId, out var job) || job.AcquiredAt is null)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Job {jobId} does not exist or was never acquired."));
        }

        if (job.Owner != daemonId)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Job {jobId} is not held by this daemon."));
        }

        return job;
    }

    private void RefuseIfAsked(TestJob job)
    {
        job.CountTerminalCall();
        while (true)
        {
            var remaining = Volatile.Read(ref _refuseTerminalReports);
            if (remaining <= 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _refuseTerminalReports, remaining - 1, remaining) == remaining)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "The coordinator is restarting (refused on purpose by the test)."));
            }
        }
    }

    private void Hold()
    {
        lock (_gate)
        {
            _held++;
            _maxHeld = Math.Max(_maxHeld, _held);
        }
    }

    private void Report(TestJob job, TerminalReport report)
    {
        if (job.IsFinished)
        {
            return;
        }

        lock (_gate)
        {
            _held--;
        }

        job.Finish(report);
    }
}
