using Google.Protobuf.WellKnownTypes;

using Grpc.Core;

using Provisioning.Daemon.Coordinator;
using Provisioning.Sdk.Daemon;

using ProtocolLogLevel = Provisioning.Sdk.Protocol.LogLevel;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// Sends one job's UpdateJob calls from a single pump, so the coordinator sees logs in order: log
/// batches (after a quiet period, when a batch is full, at each stage end), parse results (whose
/// answer the runner waits for) and, when nothing else went out for a heartbeat interval, an empty
/// UpdateJob. While the coordinator is reachable, <see cref="LogAsync"/> waits when the buffer is full
/// (back-pressure on the provisioner's output); while it is unreachable, logs wait in the bounded buffer
/// and the pump retries with backoff. A <c>canceled</c> answer or a refusal of the job is handed to the runner.
/// </summary>
internal sealed class JobReporter : IAsyncDisposable
{
    private readonly string _jobId;
    private readonly CoordinatorConnection _connection;
    private readonly ProvisionerDaemonOptions _options;
    private readonly TimeProvider _time;
    private readonly JobLogBuffer _buffer;
    private readonly Action _onCanceled;
    private readonly Action<RpcException> _onLost;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _gate = new();
    private readonly Queue<PendingUpdate> _updates = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _pump;
    private bool _flushRequested;

    public JobReporter(string jobId, CoordinatorConnection connection, ProvisionerDaemonOptions options, TimeSpan heartbeat, TimeProvider time, Action onCanceled, Action<RpcException> onLost)
    {
        _jobId = jobId;
        _connection = connection;
        _options = options;
        _time = time;
        _onCanceled = onCanceled;
        _onLost = onLost;
        _buffer = new JobLogBuffer(options.LogFlushInterval, options.LogFlushLines, options.OfflineLogBufferLines, heartbeat, time.GetUtcNow());
    }

    /// <summary>Set once the coordinator refused a call for this job (not ours any more); nothing more is sent.</summary>
    public RpcException? Lost { get; private set; }

    public void Start() => _pump = Task.Run(() => PumpAsync(_stop.Token));

    /// <summary>
    /// Queues one line of the provisioner's output, first waiting while the buffer is full and the
    /// coordinator reachable: the provisioner (and Terraform behind it) is slowed down to the pace the
    /// coordinator takes lines at, instead of lines being dropped.
    /// </summary>
    public async ValueTask LogAsync(LogSource source, ProtocolLogLevel level, string stage, string output)
    {
        while (_buffer.IsFull)
        {
            Wake();
            await _buffer.WaitForRoomAsync().ConfigureAwait(false);
        }

        Log(source, level, stage, output);
    }

    /// <summary>Queues one log line without waiting (the daemon's own few lines: stages, failures).</summary>
    public void Log(LogSource source, ProtocolLogLevel level, string stage, string output)
    {
        var now = _time.GetUtcNow();
        var full = _buffer.Add(new Log { Source = source, Level = level, Stage = stage, Output = output, CreatedAt = Timestamp.FromDateTimeOffset(now) }, now);
        if (full)
        {
            Wake();
        }
    }

    /// <summary>Sends what is buffered without waiting for the quiet period (at a stage's end).</summary>
    public void FlushSoon()
    {
        lock (_gate)
        {
            _flushRequested = true;
        }

        Wake();
    }

    /// <summary>Sends an UpdateJob carrying <paramref name="request"/>'s fields after the buffered logs, and returns the answer.</summary>
    public async Task<UpdateJobResponse> SendUpdateAsync(UpdateJobRequest request, CancellationToken cancellationToken)
    {
        var pending = new PendingUpdate(request, new TaskCompletionSource<UpdateJobResponse>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            _updates.Enqueue(pending);
        }

        Wake();
        return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every buffered line was acknowledged by the coordinator.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (!_buffer.IsEmpty && Lost is null)
        {
            await SendUpdateAsync(new UpdateJobRequest(), cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _buffer.Close();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_pump is not null)
        {
            await _pump.ConfigureAwait(false);
        }

        lock (_gate)
        {
            while (_updates.TryDequeue(out var pending))
            {
                pending.Completion.TrySetCanceled();
            }
        }

        _stop.Dispose();
        _signal.Dispose();
    }

    private void Wake()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            // A force-canceled provisioner still logging after its job was reported: nobody listens any more.
        }
    }

    private async Task PumpAsync(CancellationToken stop)
    {
        var backoff = new ReconnectBackoff(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                PendingUpdate? pending;
                bool flush;
                lock (_gate)
                {
                    _updates.TryPeek(out pending);
                    flush = _flushRequested;
                }

                if (pending is null && !flush && !_buffer.ShouldFlush(now) && !_buffer.HeartbeatDue(now))
                {
                    await _signal.WaitAsync(_buffer.NextDeadline(now), stop).ConfigureAwait(false);
                    continue;
                }

                var batch = _buffer.Peek();
                var request = pending?.Request.Clone() ?? new UpdateJobRequest();
                request.JobId = _jobId;
                request.Logs.AddRange(batch.Logs);
                UpdateJobResponse response;
                try
                {
                    response = await _connection.UpdateJobAsync(request, stop).ConfigureAwait(false);
                }
                catch (RpcException ex) when (CoordinatorConnection.IsTransient(ex) && !stop.IsCancellationRequested)
                {
                    _buffer.Reject(batch, _time.GetUtcNow());
                    _buffer.MarkUnreachable();
                    _connection.MarkDisconnected(ex);
                    await Task.Delay(backoff.NextDelay(), stop).ConfigureAwait(false);
                    continue;
                }
                catch (RpcException ex) when (!stop.IsCancellationRequested && pending is not null)
                {
                    // The coordinator refused what this update carried (e.g. a required variable without a
                    // value): the runner fails the job with that reason. A job no longer ours shows at the next heartbeat.
                    _buffer.Reject(batch, _time.GetUtcNow());
                    lock (_gate)
                    {
                        _updates.Dequeue();
                    }

                    pending.Completion.TrySetException(ex);
                    continue;
                }
                catch (RpcException ex) when (!stop.IsCancellationRequested)
                {
                    _buffer.Reject(batch, _time.GetUtcNow());
                    _buffer.Close();
                    Lost = ex;
                    FailAll(ex);
                    _onLost(ex);
                    return;
                }

                _connection.MarkConnected();
                backoff.Reset();
                _buffer.Acknowledge(batch, _time.GetUtcNow());
                lock (_gate)
                {
                    if (pending is not null)
                    {
                        _updates.Dequeue();
                    }

                    if (_buffer.IsEmpty)
                    {
                        _flushRequested = false;
                    }
                }

                if (response.Canceled)
                {
                    _onCanceled();
                }

                pending?.Completion.TrySetResult(response);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed: the runner has sent (or given up on) its terminal report.
        }
    }

    private void FailAll(RpcException exception)
    {
        lock (_gate)
        {
            while (_updates.TryDequeue(out var pending))
            {
                pending.Completion.TrySetException(exception);
            }
        }
    }

    private sealed record PendingUpdate(UpdateJobRequest Request, TaskCompletionSource<UpdateJobResponse> Completion);
}
