using System.Diagnostics;

using Provisioning.FaultInjection.Fleet;

namespace Provisioning.FaultInjection.Rounds;

/// <summary>
/// Builds one workspace through the REST API, one build at a time, as a user (or a script) would while the fleet
/// misbehaves: a request that a fault cut off is asked again, after checking whether it went through; a job is awaited
/// until it ends, bounded by <see cref="JobEndBound"/>, and one that overruns is canceled (and reported by the checker).
/// </summary>
internal sealed class WorkspaceDriver(CoordinatorApi api, string workspace, TimeSpan jobEndBound, RunLog log)
{
    /// <summary>How long an outage may keep a request from being accepted.</summary>
    private static readonly TimeSpan RequestBound = TimeSpan.FromMinutes(3);

    private static readonly TimeSpan CancelBound = TimeSpan.FromSeconds(90);

    private readonly Lock _gate = new();
    private Guid? _currentJob;
    private string _currentBuild = "none yet";
    private int _startedBuilds;
    private int _latestBuild;

    public string Workspace { get; } = workspace;

    /// <summary>The job of the build in progress (or of the last one); the fault injector aims at its daemon.</summary>
    public Guid? CurrentJobId
    {
        get
        {
            lock (_gate)
            {
                return _currentJob;
            }
        }
    }

    /// <summary>How many builds this driver has had accepted so far.</summary>
    public int StartedBuilds
    {
        get
        {
            lock (_gate)
            {
                return _startedBuilds;
            }
        }
    }

    /// <summary>The build in progress (or the last one), e.g. "#2 stop", for the printed record.</summary>
    public string CurrentBuild
    {
        get
        {
            lock (_gate)
            {
                return _currentBuild;
            }
        }
    }

    /// <summary>A job that has not ended after this long breaks invariant "every job ends".</summary>
    public TimeSpan JobEndBound { get; } = jobEndBound;

    /// <summary>Runs one build (the first one creates the workspace) and waits for its job to end, bounded.</summary>
    public async Task<BuildOutcome> BuildAsync(string transition, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var build = await RequestAsync(transition, cancellationToken).ConfigureAwait(false);
        _latestBuild = build.BuildNumber;
        lock (_gate)
        {
            _currentJob = build.Job.Id;
            _currentBuild = $"#{build.BuildNumber} {transition}";
            _startedBuilds++;
        }
        var (job, ended) = await WaitForEndAsync(build.Job.Id, JobEndBound, cancellationToken).ConfigureAwait(false);
        if (!ended)
        {
            log.Write($"  {Workspace} build #{build.BuildNumber} ({transition}): job {build.Job.Id} still {job?.Status ?? "unknown"} after {JobEndBound.TotalSeconds:0} s; canceling it");
            try
            {
                await api.CancelJobAsync(build.Job.Id, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (CoordinatorApi.IsTransient(exception) || exception is ApiException)
            {
                log.Write($"  {Workspace}: cancel of job {build.Job.Id} refused: {exception.Message}");
            }

            (job, _) = await WaitForEndAsync(build.Job.Id, CancelBound, cancellationToken).ConfigureAwait(false);
        }

        return new BuildOutcome(transition, build.BuildNumber, build.Job.Id, job, ended, clock.Elapsed);
    }

    private async Task<BuildView> RequestAsync(string transition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + RequestBound;
        while (true)
        {
            try
            {
                return _latestBuild == 0
                    ? (await api.CreateWorkspaceAsync(Workspace, ProvisioningFleet.TemplateName, cancellationToken).ConfigureAwait(false)).LatestBuild
                    : await api.CreateBuildAsync(Workspace, transition, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when ((CoordinatorApi.IsTransient(exception) || exception is ApiException { Status: System.Net.HttpStatusCode.Conflict }) && !cancellationToken.IsCancellationRequested)
            {
                // The coordinator may have accepted the request before the fault cut its answer off: adopt that build.
                if (await FindAcceptedAsync(transition, cancellationToken).ConfigureAwait(false) is { } accepted)
                {
                    return accepted;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The coordinator did not accept the {transition} build of {Workspace} within {RequestBound.TotalMinutes:0} min: {exception.Message}", exception);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<BuildView?> FindAcceptedAsync(string transition, CancellationToken cancellationToken)
    {
        try
        {
            var workspace = await api.FindWorkspaceAsync(Workspace, cancellationToken).ConfigureAwait(false);
            var latest = workspace?.LatestBuild;
            return latest is not null && latest.BuildNumber > _latestBuild && latest.Transition == transition ? latest : null;
        }
        catch (Exception exception) when (CoordinatorApi.IsTransient(exception) && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Polls the job until it ends or <paramref name="bound"/> passes; outages in between are waited out.</summary>
    public async Task<(JobView? Job, bool Ended)> WaitForEndAsync(Guid jobId, TimeSpan bound, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + bound;
        JobView? last = null;
        while (true)
        {
            try
            {
                last = await api.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
                if (last.IsTerminal)
                {
                    return (last, true);
                }
            }
            catch (Exception exception) when (CoordinatorApi.IsTransient(exception) && !cancellationToken.IsCancellationRequested)
            {
                // The coordinator or its database is down for the moment.
            }

            if (DateTime.UtcNow > deadline)
            {
                return (last, false);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }
    }
}
