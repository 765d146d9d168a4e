using Google.Protobuf.WellKnownTypes;

using Provisioning.Sdk.Daemon;

using ProtocolLogLevel = Provisioning.Sdk.Protocol.LogLevel;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// The logs of one job waiting to be sent, and the rules for when to send them: after a quiet
/// period, when a batch is full, or when a heartbeat is due. Pure bookkeeping (no I/O): the
/// <see cref="JobReporter"/> peeks a batch, sends it, and acknowledges it only once the coordinator
/// took it, so lines are never lost to a failed call. While the coordinator is reachable, a full buffer
/// makes producers wait (<see cref="WaitForRoomAsync"/>): a chatty build is slowed down, never cut
/// short. Only while the coordinator is unreachable (a send failed and none succeeded since) is the
/// buffer bounded by dropping: the oldest lines go, and the next batch starts with one line saying how
/// many. See docs/decisions/0004-daemon-holds-reports-and-logs.md.
/// </summary>
internal sealed class JobLogBuffer
{
    /// <summary>
    /// At most this many characters of output per batch, whatever <c>LogFlushLines</c> allows: a batch stays well
    /// under the coordinator's 8 MiB message limit (3 UTF-8 bytes per character at worst).
    /// </summary>
    internal const int MaxBatchCharacters = 1_000_000;

    private readonly Lock _gate = new();
    private readonly LinkedList<Entry> _entries = new();
    private readonly TimeSpan _quiet;
    private readonly int _batchLines;
    private readonly int _capacity;
    private readonly TimeSpan _heartbeat;
    private long _nextSequence;
    private long _dropped;
    private long _droppedInFlight;
    private long _inFlightUpTo = -1;
    private Timestamp? _firstDropAt;
    private DateTimeOffset _lastAdded;
    private DateTimeOffset _lastSent;
    private bool _unreachable;
    private bool _closed;
    private TaskCompletionSource? _room;

    public JobLogBuffer(TimeSpan quiet, int batchLines, int capacity, TimeSpan heartbeat, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, batchLines);
        _quiet = quiet;
        _batchLines = batchLines;
        _capacity = capacity;
        _heartbeat = heartbeat;
        _lastAdded = now;
        _lastSent = now;
    }

    /// <summary>Lines waiting, not counting the dropped-lines notice.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Whether nothing waits to be sent (no lines and no dropped-lines notice).</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count == 0 && _dropped == 0;
            }
        }
    }

    /// <summary>Lines dropped and not yet reported.</summary>
    public long Dropped
    {
        get
        {
            lock (_gate)
            {
                return _dropped;
            }
        }
    }

    /// <summary>
    /// Whether a producer should wait before adding: the buffer is full while the coordinator is
    /// reachable (so the pump will drain it). False once the coordinator is unreachable or the buffer closed.
    /// </summary>
    public bool IsFull
    {
        get
        {
            lock (_gate)
            {
                return MustWait();
            }
        }
    }

    /// <summary>Whether the last send failed because the coordinator could not be reached (and none succeeded since).</summary>
    public bool IsUnreachable
    {
        get
        {
            lock (_gate)
            {
                return _unreachable;
            }
        }
    }

    /// <summary>
    /// Completes when a producer may add again: the pump made room, the coordinator became unreachable
    /// (lines are then bounded by dropping), or the buffer was closed. Completes at once when <see cref="IsFull"/> is false.
    /// </summary>
    public Task WaitForRoomAsync()
    {
        lock (_gate)
        {
            if (!MustWait())
            {
                return Task.CompletedTask;
            }

            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _room.Task;
        }
    }

    /// <summary>Records that a send failed because the coordinator is unreachable: from now on a full buffer drops its oldest lines instead of making producers wait.</summary>
    public void MarkUnreachable()
    {
        lock (_gate)
        {
            _unreachable = true;
            ReleaseWaiters();
        }
    }

    /// <summary>Nothing will be sent any more (the job was reported or refused): producers never wait again.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            ReleaseWaiters();
        }
    }

    /// <summary>
    /// Adds a line. While the coordinator is reachable nothing is dropped (producers that can wait call
    /// <see cref="WaitForRoomAsync"/> first); while it is unreachable the oldest lines beyond the capacity go.
    /// Returns true when a full batch waits.
    /// </summary>
    public bool Add(Log log, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(log);
        lock (_gate)
        {
            _entries.AddLast(new Entry(_nextSequence++, log));
            _lastAdded = now;
            while (_unreachable && _entries.Count > _capacity)
            {
                var oldest = _entries.First!.Value;
                _entries.RemoveFirst();
                if (oldest.Sequence <= _inFlightUpTo)
                {
                    // Part of the batch being sent: lost only if that send fails (see Reject).
                    _droppedInFlight++;
                }
                else
                {
                    _firstDropAt ??= Timestamp.FromDateTimeOffset(now);
                    _dropped++;
                }
            }

            return _entries.Count >= _batchLines;
        }
    }

    /// <summary>Whether lines should be sent now: a full batch, or lines that waited through a quiet period.</summary>
    public bool ShouldFlush(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_entries.Count == 0 && _dropped == 0)
            {
                return false;
            }

            return _entries.Count >= _batchLines || now - _lastAdded >= _quiet;
        }
    }

    /// <summary>Whether nothing was sent for a heartbeat interval.</summary>
    public bool HeartbeatDue(DateTimeOffset now)
    {
        lock (_gate)
        {
            return now - _lastSent >= _heartbeat;
        }
    }

    /// <summary>When the pump should look again if nothing else happens: the earlier of flush and heartbeat deadlines.</summary>
    public TimeSpan NextDeadline(DateTimeOffset now)
    {
        lock (_gate)
        {
            var heartbeat = _lastSent + _heartbeat - now;
            if (_entries.Count == 0 && _dropped == 0)
            {
                return heartbeat > TimeSpan.Zero ? heartbeat : TimeSpan.Zero;
            }

            var flush = _lastAdded + _quiet - now;
            var next = flush < heartbeat ? flush : heartbeat;
            return next > TimeSpan.Zero ? next : TimeSpan.Zero;
        }
    }

    /// <summary>The next batch: the dropped-lines notice (if any) and up to a batch of the oldest lines. Nothing is removed.</summary>
    public LogBatch Peek()
    {
        lock (_gate)
        {
            var logs = new List<Log>(Math.Min(_entries.Count, _batchLines) + 1);
            var dropped = _dropped;
            if (dropped > 0)
            {
                logs.Add(new Log
                {
                    Source = LogSource.ProvisionerDaemon,
                    Level = ProtocolLogLevel.Warn,
                    CreatedAt = _firstDropAt,
                    Stage = _entries.First?.Value.Log.Stage ?? "",
                    Output = $"{dropped} log lines were dropped while the coordinator was unreachable (the daemon keeps at most {_capacity} unsent lines per job).",
                });
            }

            var last = -1L;
            var characters = 0;
            foreach (var entry in _entries)
            {
                characters += entry.Log.Output.Length;
                if (logs.Count >= _batchLines + (dropped > 0 ? 1 : 0) || (characters > MaxBatchCharacters && last >= 0))
                {
                    break;
                }

                logs.Add(entry.Log);
                last = entry.Sequence;
            }

            _inFlightUpTo = last;
            return new LogBatch(logs, last, dropped);
        }
    }

    /// <summary>Removes what <paramref name="batch"/> carried, after the coordinator acknowledged it.</summary>
    public void Acknowledge(LogBatch batch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            // Lines dropped while the batch was in flight are gone already; remove only what is still here.
            while (_entries.First is { } first && first.Value.Sequence <= batch.LastSequence)
            {
                _entries.RemoveFirst();
            }

            _dropped -= batch.Dropped;
            if (_dropped == 0)
            {
                _firstDropAt = null;
            }

            _droppedInFlight = 0;
            _inFlightUpTo = -1;
            _lastSent = now;
            _unreachable = false;
            if (!MustWait())
            {
                ReleaseWaiters();
            }
        }
    }

    /// <summary>Records that <paramref name="batch"/> was not delivered: its lines stay, except those the bound dropped meanwhile.</summary>
    public void Reject(LogBatch batch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            if (_droppedInFlight > 0)
            {
                _firstDropAt ??= Timestamp.FromDateTimeOffset(now);
                _dropped += _droppedInFlight;
                _droppedInFlight = 0;
            }

            _inFlightUpTo = -1;
        }
    }

    private bool MustWait() => !_unreachable && !_closed && _entries.Count >= _capacity;

    private void ReleaseWaiters()
    {
        _room?.TrySetResult();
        _room = null;
    }

    private readonly record struct Entry(long Sequence, Log Log);
}
