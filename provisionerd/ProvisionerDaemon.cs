using System.Collections.Concurrent;
using System.Reflection;

using Grpc.Core;

using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Coordinator;
using Provisioning.Daemon.Jobs;
using Provisioning.Daemon.Operability;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon;

/// <summary>
/// A provisioner daemon: checks its provisioner, registers with the coordinator, holds one
/// acquisition stream per free slot, and runs each acquired job to its terminal report. A plain class
/// (hosting lives in <see cref="Hosting.ProvisionerDaemonHostedService"/>).
/// </summary>
/// <remarks>
/// Stopping has two levels. <see cref="DrainAsync"/> (SIGTERM) stops taking jobs and lets running
/// ones finish, for at most <see cref="ProvisionerDaemonOptions.DrainTimeout"/>, then shuts down. <see cref="ShutdownAsync"/> (SIGINT, or canceling the token given to
/// <see cref="ExecuteAsync"/>) also cancels running jobs gracefully and waits for their terminal
/// reports, for at most <see cref="ProvisionerDaemonOptions.ShutdownTimeout"/>.
/// </remarks>
public sealed class ProvisionerDaemon : IDisposable
{
    private static readonly TimeSpan AcquireCancelTimeout = TimeSpan.FromSeconds(10);

    private readonly ProvisionerDaemonOptions _options;
    // Keyed by type; the first is the one a job naming no provisioner runs with.
    private readonly IReadOnlyList<IDaemonProvisioner> _provisioners;
    private readonly ILogger<ProvisionerDaemon> _logger;
    private readonly TimeProvider _time;
    private readonly DaemonMetrics _metrics;
    private readonly CoordinatorConnection _connection;
    private readonly ReportDelivery _delivery;
    private readonly ConcurrentDictionary<string, JobRunner> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _drain = new();
    private readonly CancellationTokenSource _cancelJobs = new();
    private readonly CancellationTokenSource _abort = new();
    // Fires DrainTimeout after a drain began: running jobs are then canceled gracefully, as by a shutdown.
    private readonly CancellationTokenSource _drainDeadline = new();
    // Set once _run is assigned, so a drain racing with the start still finds the run to wait for.
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _run;
    private readonly SemaphoreSlim _registerGate = new(1, 1);
    private volatile bool _registered;
    private volatile bool _alive;
    private int _executing;

    public ProvisionerDaemon(ProvisionerDaemonOptions options, IDaemonProvisioner provisioner, ILogger<ProvisionerDaemon> logger, TimeProvider? time = null)
        : this(options, [provisioner], logger, time)
    {
    }

    /// <summary>A daemon offering several provisioner types (e.g. Terraform and a binary started with <c>--provisioner</c>); each job runs with the one its template names.</summary>
    public ProvisionerDaemon(ProvisionerDaemonOptions options, IEnumerable<IDaemonProvisioner> provisioners, ILogger<ProvisionerDaemon> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(provisioners);
        ArgumentNullException.ThrowIfNull(logger);
        ProvisionerDaemonOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _provisioners = [.. provisioners];
        if (_provisioners.Count == 0 || _provisioners.Any(provisioner => provisioner is null))
        {
            throw new ArgumentException("A daemon needs at least one provisioner, and no null one.", nameof(provisioners));
        }

        if (_provisioners.GroupBy(provisioner => provisioner.Type, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1) is { } duplicate)
        {
            throw new ArgumentException($"Two provisioners have the type '{duplicate.Key}': a daemon offers each type once.", nameof(provisioners));
        }

        _logger = logger;
        _time = time ?? TimeProvider.System;
        HeartbeatInterval = options.HeartbeatInterval;
        _metrics = new DaemonMetrics();
        _metrics.SetSlots(options.Slots);
        _metrics.SetConnected(false);
        _connection = new CoordinatorConnection(options, _metrics, logger);
        _drainDeadline.Token.Register(() =>
        {
            if (!_cancelJobs.IsCancellationRequested && !_running.IsEmpty)
            {
                DaemonLog.DrainTimedOut(_logger, _options.DrainTimeout, _running.Count);
            }

            _ = BeginShutdown();
        });
        _delivery = new ReportDelivery(new ReportSpool(options, logger), new TerminalReportSender(_connection, options, logger), options, logger);
    }

    /// <summary>The id the coordinator gave this daemon; empty until registered.</summary>
    public string DaemonId { get; private set; } = "";

    /// <summary>The tags the coordinator matches jobs against; empty until registered.</summary>
    public IReadOnlyDictionary<string, string> EffectiveTags { get; private set; } = new Dictionary<string, string>();

    /// <summary>
    /// How often a running job sends at least an empty UpdateJob: the configured interval, or the
    /// coordinator's if it asked for a shorter one at registration.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; private set; }

    /// <summary>Whether the daemon runs (for <c>/healthz</c>).</summary>
    public bool IsAlive => _alive;

    /// <summary>Whether the daemon is registered and its last call reached the coordinator (for <c>/readyz</c>).</summary>
    public bool IsReady => _alive && _registered && _connection.IsConnected && !_drain.IsCancellationRequested;

    /// <summary>Jobs running now.</summary>
    public int RunningJobs => _running.Count;

    /// <summary>The Prometheus registry holding this daemon's metrics.</summary>
    public Prometheus.CollectorRegistry MetricsRegistry => _metrics.Registry;

    internal DaemonMetrics Metrics => _metrics;

    /// <summary>The health and metrics endpoints while the daemon runs (their bound addresses).</summary>
    internal DaemonEndpoints? Endpoints { get; set; }

    /// <summary>
    /// Runs the daemon until it is drained or shut down. Canceling <paramref name="cancellationToken"/>
    /// shuts it down (running jobs are canceled gracefully and reported).
    /// </summary>
    /// <exception cref="ProvisionerDaemonException">The daemon cannot run: credentials refused, provisioner unusable. See its ExitCode.</exception>
    public Task ExecuteAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _executing, 1) != 0)
        {
            throw new InvalidOperationException("ExecuteAsync was already called on this daemon; create a new daemon to run again.");
        }

        var run = RunAsync(cancellationToken);
        _run = run;
        _started.TrySetResult();
        return run;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        // Yield so ExecuteAsync hands out this task before anything can wait for it.
        await Task.Yield();
        using var shutdownOnCancel = cancellationToken.Register(() => _ = BeginShutdown());
        DaemonEndpoints? endpoints = null;
        Task<ProvisionerDaemonException?>? provisionerFailure = null;
        _alive = true;
        try
        {
            DaemonLog.Starting(_logger, _options.Name, _options.Slots, _options.CoordinatorUrl!);
            endpoints = await DaemonEndpoints.StartAsync(_options, this, _logger, _drain.Token).ConfigureAwait(false);
            IReadOnlyList<TerminalReport> spooled = _delivery.Spool.LoadAll();
            var recovered = await CollectLeftoverWorkDirectoriesAsync(spooled, _drain.Token).ConfigureAwait(false);
            foreach (var report in recovered)
            {
                await _delivery.Spool.SaveAsync(report, _drain.Token).ConfigureAwait(false);
            }

            spooled = [.. spooled, .. recovered];
            await CheckProvisionersAsync(_drain.Token).ConfigureAwait(false);
            provisionerFailure = WatchProvisionersAsync();
            await RegisterAsync(_drain.Token).ConfigureAwait(false);

            // Before any new job: the states an earlier run still holds reach the coordinator first (invariant 3).
            await ResendSpooledReportsAsync(spooled, _drain.Token).ConfigureAwait(false);

            var slots = Enumerable.Range(0, _options.Slots).Select(slot => Task.Run(() => RunSlotAsync(slot))).ToList();
            await Task.WhenAll(slots).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_drain.IsCancellationRequested)
        {
            // Stopped before the first job could be taken.
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && _drain.IsCancellationRequested)
        {
            // Stopped while registering: gRPC reports the canceled call as an RpcException, not as a crash.
        }
        finally
        {
            _alive = false;
            if (endpoints is not null)
            {
                await endpoints.DisposeAsync().ConfigureAwait(false);
            }

            DaemonLog.Stopped(_logger);
        }

        // A provisioner that stopped for good ended the run (as a shutdown): the daemon exits with its reason.
        if (provisionerFailure is not null && await provisionerFailure.ConfigureAwait(false) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Stops taking jobs (waiting acquisitions are canceled) and waits until running jobs finished and
    /// were reported. Jobs still running after <see cref="ProvisionerDaemonOptions.DrainTimeout"/> are
    /// canceled gracefully and their (partial) states reported, as by <see cref="ShutdownAsync"/>.
    /// Canceling <paramref name="cancellationToken"/> escalates to a shutdown at once.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        if (!_drain.IsCancellationRequested)
        {
            DaemonLog.Draining(_logger, _running.Count, _options.DrainTimeout);
            await _drain.CancelAsync().ConfigureAwait(false);
            _drainDeadline.CancelAfter(_options.DrainTimeout);
        }

        using var escalate = cancellationToken.Register(() => _ = BeginShutdown());
        await WaitStoppedAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops taking jobs, cancels running jobs gracefully and waits for their terminal reports.
    /// Canceling <paramref name="cancellationToken"/> gives up on them at once.
    /// </summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        await BeginShutdown().ConfigureAwait(false);
        using var abort = cancellationToken.Register(() => _abort.Cancel());
        await WaitStoppedAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _drain.Dispose();
        _cancelJobs.Dispose();
        _abort.Dispose();
        _drainDeadline.Dispose();
        _registerGate.Dispose();
    }

    /// <summary>Waits until the run has ended, however it ended (its exception is ExecuteAsync's to report).</summary>
    private async Task WaitStoppedAsync()
    {
        if (Volatile.Read(ref _executing) == 0)
        {
            return;
        }

        await _started.Task.ConfigureAwait(false);
        await _run!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task BeginShutdown()
    {
        if (_cancelJobs.IsCancellationRequested)
        {
            return;
        }

        DaemonLog.ShuttingDown(_logger, _running.Count);
        await _drain.CancelAsync().ConfigureAwait(false);
        await _cancelJobs.CancelAsync().ConfigureAwait(false);
        _abort.CancelAfter(_options.ShutdownTimeout);
        _ = _abort.Token.Register(() =>
        {
            if (_run is not { IsCompleted: true })
            {
                DaemonLog.ShutdownTimedOut(_logger, _options.ShutdownTimeout);
            }
        });
    }

    private async Task CheckProvisionersAsync(CancellationToken cancellationToken)
    {
        foreach (var provisioner in _provisioners)
        {
            string description;
            try
            {
                description = await provisioner.CheckAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ProvisionerDaemonException(
                    $"The {provisioner.Type} provisioner cannot run, so the daemon did not register: {ex.Message}", ProvisionerDaemonException.ProvisionerExitCode, ex);
            }

            DaemonLog.ProvisionerChecked(_logger, provisioner.Type, description);
        }
    }

    /// <summary>
    /// Ends the daemon when a provisioner stops for good (a supervised binary that keeps exiting): running jobs are
    /// canceled and reported as by a shutdown, then the run ends with the provisioner's exception (exit code 4).
    /// </summary>
    private async Task<ProvisionerDaemonException?> WatchProvisionersAsync()
    {
        var failed = await Task.WhenAny([.. _provisioners.Select(provisioner => provisioner.Failure), Task.Delay(Timeout.Infinite, _drain.Token)]).ConfigureAwait(false);
        if (failed.Exception?.InnerException is not { } exception)
        {
            return null;
        }

        await BeginShutdown().ConfigureAwait(false);
        return exception as ProvisionerDaemonException
            ?? new ProvisionerDaemonException(exception.Message, ProvisionerDaemonException.ProvisionerExitCode, exception);
    }

    private DaemonInfo Info()
    {
        var info = new DaemonInfo
        {
            Name = _options.Name,
            Version = typeof(ProvisionerDaemon).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
            Slots = _options.Slots,
        };
        info.Provisioners.AddRange(_provisioners.Select(provisioner => provisioner.Type));
        info.Tags.Add(_options.Tags);
        return info;
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        await _registerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_registered)
            {
                return;
            }

            var response = await _connection.RetryAsync(token => _connection.RegisterAsync(new RegisterRequest { Daemon = Info() }, token), cancellationToken).ConfigureAwait(false);
            DaemonId = response.DaemonId;
            _connection.SetSession(response.SessionToken);
            EffectiveTags = new Dictionary<string, string>(response.EffectiveTags, StringComparer.Ordinal);
            if (response.HeartbeatIntervalSeconds > 0 && TimeSpan.FromSeconds(response.HeartbeatIntervalSeconds) < HeartbeatInterval)
            {
                // The coordinator reaps jobs that stay silent longer than it expects; never be slower than it asks.
                HeartbeatInterval = TimeSpan.FromSeconds(response.HeartbeatIntervalSeconds);
            }

            _registered = true;
            DaemonLog.Registered(_logger, response.DaemonId, string.Join(",", response.EffectiveTags.Select(tag => $"{tag.Key}={tag.Value}")));
        }
        catch (RpcException ex) when (CoordinatorConnection.IsAuthRefusal(ex))
        {
            throw AuthRefused(ex);
        }
        finally
        {
            _registerGate.Release();
        }
    }

    private ProvisionerDaemonException AuthRefused(RpcException exception)
    {
        DaemonLog.AuthRefused(_logger, exception.StatusCode, exception.Status.Detail);
        var credential = string.IsNullOrWhiteSpace(_options.ProvisionerKey) ? "pre-shared key (--psk)" : "provisioner key (--key)";
        _ = BeginShutdown();
        return new ProvisionerDaemonException(
            $"The coordinator at {_options.CoordinatorUrl} refused the daemon's {credential}: {exception.Status.Detail} ({exception.StatusCode}). " +
            "Check the key (create a new one with 'provisioning provisioner keys create' if it was revoked) and restart the daemon.",
            ProvisionerDaemonException.AuthenticationExitCode,
            exception);
    }

    private async Task RunSlotAsync(int slot)
    {
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["Daemon"] = _options.Name, ["Slot"] = slot });
        var backoff = new ReconnectBackoff(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay);
        while (!_drain.IsCancellationRequested)
        {
            AcquiredJob? job;
            var session = _connection.SessionGeneration;
            try
            {
                await RegisterAsync(_drain.Token).ConfigureAwait(false);
                session = _connection.SessionGeneration;
                job = await AcquireAsync().ConfigureAwait(false);
                backoff.Reset();
            }
            catch (OperationCanceledException) when (_drain.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex) when (CoordinatorConnection.IsAuthRefusal(ex))
            {
                // The coordinator forgot this daemon (cleaned up as stale), or its session ended: register again,
                // which ends the daemon for good if the credentials themselves are refused. Only when this slot's
                // session is still the current one: a new Register (by another slot) ends the streams of the old
                // session, and registering again for each of them would end the others' in turn, without end.
                if (_connection.SessionGeneration == session)
                {
                    _registered = false;
                }

                await DelayAsync(backoff.NextDelay()).ConfigureAwait(false);
                continue;
            }
            catch (RpcException ex)
            {
                _connection.MarkDisconnected(ex);
                if (ex.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
                {
                    // The coordinator forgot this daemon (e.g. its record was cleaned up): register again.
                    _registered = false;
                }

                await DelayAsync(backoff.NextDelay()).ConfigureAwait(false);
                continue;
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or ProvisionerDaemonException))
            {
                // Whatever went wrong with one acquisition, the slot must keep serving: log it and try again.
                DaemonLog.AcquireFailed(_logger, ex);
                await DelayAsync(backoff.NextDelay()).ConfigureAwait(false);
                continue;
            }

            if (job is null)
            {
                continue;
            }

            await RunJobAsync(job).ConfigureAwait(false);
        }
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _drain.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Draining: the slot loop ends.
        }
    }

    /// <summary>
    /// Holds one AcquireJob stream until a job arrives; when draining, sends Cancel and takes the
    /// coordinator's answer (an empty job, or a job it had already handed out, which then still runs).
    /// </summary>
    private async Task<AcquiredJob?> AcquireAsync()
    {
        using var call = _connection.AcquireJob(_abort.Token);
        await call.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready { Daemon = Info() } }, _abort.Token).ConfigureAwait(false);
        _connection.MarkConnected();
        var next = call.ResponseStream.MoveNext(_abort.Token);
        var drained = Task.Delay(Timeout.Infinite, _drain.Token);
        if (await Task.WhenAny(next, drained).ConfigureAwait(false) == drained)
        {
            next = AnswerToCancelAsync(next);
            try
            {
                await call.RequestStream.WriteAsync(new AcquireRequest { Cancel = new AcquireRequest.Types.Cancel() }, _abort.Token).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
            {
                // The stream already ended; its answer (or error) is read below.
            }
        }

        if (!await next.ConfigureAwait(false))
        {
            if (_drain.IsCancellationRequested)
            {
                return null;
            }

            throw new RpcException(new Status(StatusCode.Unavailable, "The coordinator closed the acquisition stream without a job."));
        }

        var job = call.ResponseStream.Current;
        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
        {
            // Already completed after a Cancel.
        }

        return string.IsNullOrEmpty(job.JobId) ? null : job;
    }

    private static async Task<bool> AnswerToCancelAsync(Task<bool> next)
    {
        try
        {
            // A coordinator that never answers the Cancel must not hold the drain; disposing the call ends the stream.
            return await next.WaitAsync(AcquireCancelTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The provisioner the job's template names (the first one when it names none, as older coordinators send); null when this daemon does not offer it.</summary>
    private IDaemonProvisioner? ProvisionerFor(AcquiredJob job) => string.IsNullOrEmpty(job.Provisioner)
        ? _provisioners[0]
        : _provisioners.FirstOrDefault(provisioner => provisioner.Type == job.Provisioner);

    private async Task RunJobAsync(AcquiredJob job)
    {
        var runner = new JobRunner(job, _connection, ProvisionerFor(job), _options, HeartbeatInterval, _delivery, _logger, _time);
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["JobId"] = job.JobId });
        DaemonLog.JobAcquired(_logger, runner.JobType, job.JobId);
        _running[job.JobId] = runner;
        _metrics.JobStarted();
        var started = _time.GetTimestamp();
        var outcome = JobOutcome.Abandoned;
        try
        {
            outcome = await runner.RunAsync(_cancelJobs.Token, _abort.Token).ConfigureAwait(false);
        }
        finally
        {
            // Metrics first: a job is off its slot only once it is counted.
            _metrics.JobFinished(runner.JobType, outcome, _time.GetElapsedTime(started));
            _running.TryRemove(job.JobId, out _);
            if (_options.CompactMemoryWhenIdle && _running.IsEmpty)
            {
                // An idle daemon otherwise keeps the heap a build grew to (states, plans, log batches) for as long as
                // it waits: an aggressive collection and a trim of the native heap return it to the system. Once per
                // build, when no job runs, so no build waits on it (docs/decisions/0008-performance-where-users-feel-it.md,
                // 0021-idle-daemon-memory-and-conversion-speed.md).
                IdleMemory.Release();
            }
        }
    }

    /// <summary>
    /// Sends the terminal reports an earlier run spooled but never saw acknowledged (it was killed, or the
    /// coordinator was down when it stopped), oldest first, retrying while the coordinator is unreachable.
    /// A drain stops it; what is left stays spooled for the next start.
    /// </summary>
    private async Task ResendSpooledReportsAsync(IReadOnlyList<TerminalReport> spooled, CancellationToken cancellationToken)
    {
        if (spooled.Count == 0)
        {
            return;
        }

        DaemonLog.ResendingSpooled(_logger, spooled.Count);
        for (var index = 0; index < spooled.Count; index++)
        {
            var report = spooled[index];
            using var scope = _logger.BeginScope(new Dictionary<string, object> { ["JobId"] = report.JobId });
            DaemonLog.ResendingReport(_logger, report.Kind, report.JobId, index + 1, spooled.Count, report.State?.Length ?? 0);
            await _delivery.DeliverAsync(report, onResultsRefused: null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How long a Terraform left running by a killed daemon gets to stop after SIGINT before it is killed.</summary>
    private static readonly TimeSpan OrphanGracePeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Work directories are named after job ids and removed once a job's report was acknowledged; what is left
    /// comes from a run that stopped early. A directory whose report is spooled goes when that report is
    /// acknowledged; one without a report but with Terraform state (the daemon was killed mid-job, and Terraform
    /// with it) is kept under the unaccepted directory for an operator, never deleted, and its state is reported as
    /// the job's failure (returned, to be spooled and sent before any new work): the coordinator records it on the
    /// build, or keeps it as an orphaned state when a newer build exists, so resources that Terraform created before
    /// it died are named by a state (invariant 3). The rest is removed.
    /// </summary>
    private async Task<List<TerminalReport>> CollectLeftoverWorkDirectoriesAsync(IReadOnlyList<TerminalReport> spooled, CancellationToken cancellationToken)
    {
        var recovered = new List<TerminalReport>();
        var root = _options.JobsDirectory;
        Directory.CreateDirectory(root);
        var reported = spooled.Select(report => ProvisionerDaemonOptions.SafeDirectoryName(report.JobId)).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        foreach (var directory in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(directory);
            if (reported.Contains(name))
            {
                continue;
            }

            try
            {
                // A Terraform the killed daemon left behind may still be applying here: stop it first (it writes its
                // state on SIGINT), so the state read below names everything it created.
                var orphans = await OrphanedProcesses.StopAsync(directory, OrphanGracePeriod, cancellationToken).ConfigureAwait(false);
                if (orphans > 0)
                {
                    DaemonLog.OrphansStopped(_logger, orphans, name);
                }

                if (Directory.EnumerateFiles(directory, "*.tfstate*", SearchOption.AllDirectories).Any())
                {
                    var state = Directory.EnumerateFiles(directory, "terraform.tfstate", SearchOption.AllDirectories)
                        .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}.terraform{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                        .Select(File.ReadAllBytes)
                        .FirstOrDefault(bytes => bytes.Length > 0);
                    var kept = _delivery.Spool.Unaccept(name, directory,
                        $"The daemon stopped while job {name} ran, before it had a terminal report; this is its work directory with the Terraform state as it was then.");
                    DaemonLog.LeftoverStateKept(_logger, directory, name, kept);
                    if (state is not null && Guid.TryParse(name, out _))
                    {
                        recovered.Add(new TerminalReport(
                            name,
                            null,
                            new FailedJob
                            {
                                JobId = name,
                                Error = "The daemon stopped while this job ran (it was killed, or its machine went down); this is the state Terraform had written when it stopped.",
                                ErrorCode = JobErrorCodes.DaemonError,
                                WorkspaceBuild = new FailedJob.Types.WorkspaceBuild(),
                            },
                            Google.Protobuf.ByteString.CopyFrom(state)));
                    }

                    continue;
                }

                Directory.Delete(directory, recursive: true);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                DaemonLog.CleanupFailed(_logger, ex, directory);
            }
        }

        if (removed > 0)
        {
            DaemonLog.RemovedLeftovers(_logger, removed, root);
        }

        return recovered;
    }
}
