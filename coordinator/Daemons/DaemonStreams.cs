using System.Collections.Concurrent;
using System.Security.Cryptography;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// The AcquireJob streams open on this process, by daemon session. A stream ends within <see cref="CheckInterval"/>
/// once its session is no longer valid on any replica (the daemon's key was revoked, or it registered again), and
/// at once when the revocation happened on this process (docs/architecture.md, trust boundaries: a revoked key loses its streams at once).
/// The claim statement refuses revoked daemons as well, so no job is claimed for them in between.
/// </summary>
// The authenticator is resolved when first needed: the host constructs hosted services before the database
// (which the authenticator's data source comes from) has started.
public sealed partial class DaemonStreams(IServiceProvider services, ILogger<DaemonStreams> logger) : BackgroundService
{
    /// <summary>How often the sessions of open streams are checked against the database.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<long, OpenStream> _open = new();

    // The jobs this process handed to each daemon and has not seen reported yet: a hint that lets AcquireJob
    // refuse a stream beyond the daemon's slots without reading the ledger on every stream (one transaction per
    // job, docs/decisions/0008-performance-where-users-feel-it.md). The claim statement enforces the slots.
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, byte>> _handed = new();
    private long _nextId;

    /// <summary>Registers a stream of <paramref name="daemon"/>; dispose the lease when the stream ends.</summary>
    internal Lease Open(DaemonRecord daemon)
    {
        var stream = new OpenStream(daemon.Id, daemon.SessionHash ?? [], new CancellationTokenSource());
        var id = Interlocked.Increment(ref _nextId);
        _open[id] = stream;
        return new Lease(this, id, stream);
    }

    /// <summary>How many streams of this daemon's current session are open on this process.</summary>
    internal int CountOpen(DaemonRecord daemon) =>
        _open.Values.Count(stream => stream.DaemonId == daemon.Id && daemon.SessionHash is not null && CryptographicOperations.FixedTimeEquals(stream.SessionHash, daemon.SessionHash));

    /// <summary>How many jobs this process handed to <paramref name="daemonId"/> that it has not seen reported.</summary>
    internal int CountHanded(Guid daemonId) => _handed.TryGetValue(daemonId, out var jobs) ? jobs.Count : 0;

    /// <summary>Notes that this process handed <paramref name="jobId"/> to <paramref name="daemonId"/>.</summary>
    internal void NoteHanded(Guid daemonId, Guid jobId) => _handed.GetOrAdd(daemonId, static _ => new ConcurrentDictionary<Guid, byte>())[jobId] = 0;

    /// <summary>Notes that <paramref name="jobId"/> no longer occupies a slot of <paramref name="daemonId"/> (reported, or given back).</summary>
    internal void NoteEnded(Guid daemonId, Guid jobId)
    {
        if (_handed.TryGetValue(daemonId, out var jobs))
        {
            jobs.TryRemove(jobId, out _);
        }
    }

    /// <summary>
    /// Replaces the hint of <paramref name="daemonId"/> with the jobs the ledger says it holds (on any replica), so
    /// jobs that ended without a report seen here (reaped, canceled, reported to another replica) stop counting.
    /// </summary>
    internal void ResetHanded(Guid daemonId, IEnumerable<Guid> heldJobIds) =>
        _handed[daemonId] = new ConcurrentDictionary<Guid, byte>(heldJobIds.Select(id => KeyValuePair.Create(id, (byte)0)));

    /// <summary>Ends this process's streams of <paramref name="daemonIds"/> now (their key was revoked here).</summary>
    internal void EndStreams(IReadOnlyCollection<Guid> daemonIds)
    {
        services.GetRequiredService<DaemonAuthenticator>().Forget(daemonIds);
        foreach (var stream in _open.Values.Where(stream => daemonIds.Contains(stream.DaemonId)))
        {
            stream.End();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var streams = _open.Values.ToList();
            if (streams.Count == 0)
            {
                continue;
            }

            try
            {
                var valid = await services.GetRequiredService<DaemonAuthenticator>().StillValidAsync([.. streams.Select(stream => (stream.DaemonId, stream.SessionHash)).Distinct()], stoppingToken).ConfigureAwait(false);
                foreach (var stream in streams.Where(stream => !valid.Contains(stream.DaemonId)))
                {
                    stream.End();
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database is unreachable: no claim can be made either; check again at the next tick.
                LogCheckFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "Could not check the sessions of open acquisition streams; trying again shortly")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);

    /// <summary>One open stream: its daemon, the session it was opened with, and the token that ends it.</summary>
    internal sealed class OpenStream(Guid daemonId, byte[] sessionHash, CancellationTokenSource ended)
    {
        public Guid DaemonId { get; } = daemonId;

        public byte[] SessionHash { get; } = sessionHash;

        public CancellationToken Ended => ended.Token;

        public void End()
        {
            try
            {
                ended.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream ended meanwhile.
            }
        }

        public void Dispose() => ended.Dispose();
    }

    /// <summary>A registered stream; <see cref="Ended"/> fires when its session stops being valid.</summary>
    internal sealed class Lease(DaemonStreams owner, long id, OpenStream stream) : IDisposable
    {
        public CancellationToken Ended => stream.Ended;

        public void Dispose()
        {
            if (owner._open.TryRemove(id, out _))
            {
                stream.Dispose();
            }
        }
    }
}
