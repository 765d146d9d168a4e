using Dapper;

using Microsoft.Extensions.Logging;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// The broker between Hangfire's queues and remote daemons: a daemon slot calls <see cref="AcquireAsync"/>
/// and gets exactly one job it may run (T ⊆ D, untagged jobs only on untagged daemons), or null when it
/// stops waiting. Slots whose eligible queue sets are equal share one domain and one claim loop; when the
/// set of queues changes (a new tag set appears), every waiting slot is re-routed to its new domain. One
/// database connection per process listens for enqueued jobs (on any replica) and wakes the domains that
/// serve their queue.
/// </summary>
public sealed class JobAcquirer : IAsyncDisposable
{
    private readonly ProvisionerJobQueue _queue;
    private readonly JobAcquirerOptions _options;
    private readonly ILogger<JobAcquirer> _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, AcquisitionDomain> _domains = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _refreshRequested = new(0);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private IReadOnlyList<ProvisionerQueue>? _queues;
    private Task? _refreshLoop;
    private Task? _listenLoop;
    private bool _disposed;

    public JobAcquirer(ProvisionerJobQueue queue, JobAcquirerOptions options, ILogger<JobAcquirer> logger)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _queue = queue;
        _options = options;
        _logger = logger;
        _queue.Ledger.QueuesChanged += RequestRefresh;
    }

    /// <summary>
    /// Waits until a job this daemon may run is claimed for it, and returns it (the ledger row, running on
    /// this daemon). Returns null when <paramref name="cancellationToken"/> fires first; a job claimed in the
    /// same instant is given back to the queue, so a canceled wait never leaves a job held.
    /// </summary>
    public async Task<ProvisionerJob?> AcquireAsync(DaemonIdentity daemon, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);

        while (!cancellationToken.IsCancellationRequested)
        {
            var waiter = new AcquisitionWaiter(daemon, cancellationToken);
            var domain = Join(daemon, waiter);
            if (domain is null)
            {
                return null;
            }

            AcquisitionOutcome outcome;
            using (cancellationToken.Register(static state => ((Action)state!)(), (Action)(() => domain.Cancel(waiter))))
            {
                outcome = await waiter.Outcome.ConfigureAwait(false);
            }

            if (outcome.Job is { } job)
            {
                if (!cancellationToken.IsCancellationRequested)
                {
                    return job;
                }

                await _queue.ReleaseAsync(job.Id, daemon.Id, CancellationToken.None).ConfigureAwait(false);
                JobAcquirerLog.Released(_logger, job.Id, daemon.Name);
                return null;
            }

            if (!outcome.Reroute)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Re-reads the queue list now (it is also re-read periodically and whenever this process creates a queue).</summary>
    public void RequestRefresh() => _refreshRequested.Release();

    public async ValueTask DisposeAsync()
    {
        List<AcquisitionDomain> domains;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            domains = [.. _domains.Values];
            _domains.Clear();
        }

        _queue.Ledger.QueuesChanged -= RequestRefresh;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_refreshLoop is not null)
        {
            await _refreshLoop.ConfigureAwait(false);
        }

        if (_listenLoop is not null)
        {
            await _listenLoop.ConfigureAwait(false);
        }

        foreach (var domain in domains)
        {
            await domain.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _refreshRequested.Dispose();
        _loading.Dispose();
    }

    private AcquisitionDomain? Join(DaemonIdentity daemon, AcquisitionWaiter waiter)
    {
        while (true)
        {
            AcquisitionDomain domain;
            lock (_sync)
            {
                if (_disposed)
                {
                    return null;
                }

                string[] eligible = [.. _queues!.Where(daemon.CanServe).Select(queue => queue.Name).Order(StringComparer.Ordinal)];
                var key = string.Join(',', eligible);
                if (!_domains.TryGetValue(key, out domain!))
                {
                    domain = new AcquisitionDomain(eligible, _queue.Ledger, _logger);
                    _domains.Add(key, domain);
                    domain.Start();
                }

                // Under the same lock as the queue list, so a refresh cannot slip between choosing and joining.
                if (domain.TryAdd(waiter))
                {
                    return domain;
                }

                _domains.Remove(key);
            }
        }
    }

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _queues) is not null)
        {
            return;
        }

        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_queues is null)
            {
                var queues = await _queue.Ledger.ListQueuesAsync(cancellationToken).ConfigureAwait(false);
                lock (_sync)
                {
                    _queues = queues;
                }

                _refreshLoop = Task.Run(RefreshLoopAsync, CancellationToken.None);
                _listenLoop = Task.Run(ListenForNewQueuesAsync, CancellationToken.None);
            }
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>
    /// Wakes the domains serving a queue when any replica enqueues on it, wakes every domain when Hangfire's
    /// own API enqueued something (a requeue from the dashboard), and refreshes at once when any replica
    /// creates a queue (the database NOTIFYs on insert).
    /// </summary>
    private async Task ListenForNewQueuesAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _queue.Ledger.DataSource.OpenConnectionAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, notification) => OnNotification(notification.Channel, notification.Payload);
                await connection.ExecuteAsync(
                    $"LISTEN {ProvisionerJobLedger.QueuesChannel}; LISTEN {HangfireJobRows.EnqueuedChannel}; LISTEN {HangfireJobRows.HangfireChannel}").ConfigureAwait(false);

                // Queues created and jobs enqueued while the listener was down are picked up now.
                RequestRefresh();
                WakeDomains(queue: null);
                while (true)
                {
                    await connection.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A lost listener connection is re-opened; the periodic refresh covers the gap.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                if (exception is Npgsql.PostgresException { SqlState: "57P01" })
                {
                    // The server is shutting down or restarting (e.g. the built-in PostgreSQL stopping with
                    // the coordinator): expected, and the reconnect below handles a restart.
                    JobAcquirerLog.ListenerClosedByServer(_logger);
                }
                else
                {
                    JobAcquirerLog.RefreshFailed(_logger, exception);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private void OnNotification(string channel, string payload)
    {
        switch (channel)
        {
            case ProvisionerJobLedger.QueuesChannel:
                RequestRefresh();
                break;
            case HangfireJobRows.EnqueuedChannel:
                WakeDomains(payload);
                break;
            default:
                WakeDomains(queue: null);
                break;
        }
    }

    /// <summary>Wakes the domains that serve <paramref name="queue"/>, or all of them when it is null.</summary>
    private void WakeDomains(string? queue)
    {
        lock (_sync)
        {
            foreach (var domain in _domains.Values)
            {
                if (queue is null || domain.Serves(queue))
                {
                    domain.Wake();
                }
            }
        }
    }

    private async Task RefreshLoopAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _refreshRequested.WaitAsync(_options.QueueRefreshInterval, stopping).ConfigureAwait(false);
                var queues = await _queue.Ledger.ListQueuesAsync(stopping).ConfigureAwait(false);
                List<AcquisitionDomain> stale;
                lock (_sync)
                {
                    if (_queues!.Select(queue => queue.Name).SequenceEqual(queues.Select(queue => queue.Name), StringComparer.Ordinal))
                    {
                        continue;
                    }

                    _queues = queues;
                    stale = [.. _domains.Values];
                    _domains.Clear();
                }

                foreach (var domain in stale)
                {
                    await domain.StopAsync(AcquisitionOutcome.Rerouted).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A failed refresh must not end the loop; the next one may succeed.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                if (exception is Npgsql.PostgresException { SqlState: "57P01" })
                {
                    // The server is shutting down or restarting (e.g. the built-in PostgreSQL stopping with
                    // the coordinator): expected, and the reconnect below handles a restart.
                    JobAcquirerLog.ListenerClosedByServer(_logger);
                }
                else
                {
                    JobAcquirerLog.RefreshFailed(_logger, exception);
                }

            }
        }
    }
}
