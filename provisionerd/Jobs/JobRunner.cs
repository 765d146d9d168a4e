using System.Diagnostics;

using Google.Protobuf;

using Grpc.Core;

using Metadata = Provisioning.Sdk.Protocol.Metadata;

using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Coordinator;
using Provisioning.Daemon.Operability;
using Provisioning.Sdk.Archives;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;
using Provisioning.Sdk.Telemetry;

using ProtocolLogLevel = Provisioning.Sdk.Protocol.LogLevel;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// Runs one acquired job to its terminal report: sets up a provisioner session, drives Parse/Plan/Apply
/// for the job's type while forwarding logs, and reports CompleteJob or FailJob through
/// <see cref="ReportDelivery"/>: spooled to disk with its state first, retried until the coordinator
/// answers, and the spooled copy and the work directory removed only once it acknowledged. Cancellation is graceful first (the provisioner's Cancel, so Terraform
/// can write its state) and forced after <see cref="ProvisionerDaemonOptions.ForceCancelTimeout"/>.
/// Never throws: every failure becomes a report.
/// </summary>
internal sealed class JobRunner
{
    private static readonly TimeSpan SessionDisposeTimeout = TimeSpan.FromSeconds(30);

    private readonly AcquiredJob _job;
    private readonly CoordinatorConnection _connection;
    // Null when the daemon does not offer the job's provisioner type: the job then fails as unsupported.
    private readonly IDaemonProvisioner? _provisioner;
    private readonly ProvisionerDaemonOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _workDirectory;
    private readonly TimeSpan _heartbeat;
    private readonly ReportDelivery _delivery;
    private JobReporter _reporter = null!;
    private IProvisionerSessionClient? _session;
    private string _stage = "";

    public JobRunner(AcquiredJob job, CoordinatorConnection connection, IDaemonProvisioner? provisioner, ProvisionerDaemonOptions options, TimeSpan heartbeat, ReportDelivery delivery, ILogger logger, TimeProvider time)
    {
        _delivery = delivery;
        _heartbeat = heartbeat;
        _job = job;
        _connection = connection;
        _provisioner = provisioner;
        _options = options;
        _logger = logger;
        _time = time;
        _workDirectory = Path.Combine(options.JobsDirectory, ProvisionerDaemonOptions.SafeDirectoryName(job.JobId));
    }

    public string JobId => _job.JobId;

    public string JobType => _job.JobType switch
    {
        Sdk.Daemon.JobType.TemplateVersionImport => "template_version_import",
        Sdk.Daemon.JobType.WorkspaceBuild => "workspace_build",
        Sdk.Daemon.JobType.TemplateVersionDryRun => "template_version_dry_run",
        _ => "unspecified",
    };

    /// <summary>Runs the job; returns its outcome.</summary>
    /// <param name="cancelJob">Daemon shutdown: cancel the job gracefully.</param>
    /// <param name="abort">Give up entirely (shutdown timeout): stop retrying reports.</param>
    public async Task<string> RunAsync(CancellationToken cancelJob, CancellationToken abort)
    {
        // Continues the trace of the request that queued the job; Terraform's commands are its children.
        using var activity = ProvisioningTelemetry.Daemon.StartActivity("provisioner job " + JobType, ActivityKind.Consumer, ProvisioningTelemetry.ParentOf(_job.TraceParent));
        activity?.SetTag("provisioning.job.id", _job.JobId);
        activity?.SetTag("provisioning.daemon.name", _options.Name);
        var stopwatch = Stopwatch.StartNew();
        using var jobCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancelJob);
        using var force = CancellationTokenSource.CreateLinkedTokenSource(abort);
        using var onCancel = jobCancellation.Token.Register(() =>
        {
            DaemonLog.JobCanceled(_logger, _job.JobId);
            force.CancelAfter(_options.ForceCancelTimeout);
        });

        _reporter = new JobReporter(_job.JobId, _connection, _options, _heartbeat, _time, () => TryCancel(jobCancellation), ex =>
        {
            DaemonLog.JobLost(_logger, _job.JobId, ex.StatusCode, ex.Status.Detail);
            TryCancel(jobCancellation);
        });
        _reporter.Start();
        await using var reporter = _reporter;

        var execution = ExecuteAsync(jobCancellation.Token);
        var forced = false;
        TerminalReport report;
        try
        {
            report = await execution.WaitAsync(force.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (force.IsCancellationRequested)
        {
            // The provisioner did not stop in time: end the session (which kills what it runs) without waiting for its Complete.
            _ = execution.ContinueWith(static task => task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            DaemonLog.JobForceCanceled(_logger, _job.JobId, _options.ForceCancelTimeout);
            report = Fail(new JobFailureException(
                $"The job was canceled and its provisioner did not stop within {_options.ForceCancelTimeout}; the daemon stopped it.", JobErrorCodes.Canceled));
            forced = true;
        }

        await EndSessionAsync(wait: !forced).ConfigureAwait(false);
        Stage(JobStages.CleaningUp);

        var outcome = await ReportAsync(report, abort).ConfigureAwait(false);
        activity?.SetTag("provisioning.job.outcome", outcome);
        activity?.SetStatus(report.Failed is null ? ActivityStatusCode.Ok : ActivityStatusCode.Error, report.Failed?.Error);
        stopwatch.Stop();
        DaemonLog.JobFinished(_logger, _job.JobId, outcome, stopwatch.Elapsed);
        return outcome;
    }

    private static void TryCancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The job already ended.
        }
    }

    private async Task<TerminalReport> ExecuteAsync(CancellationToken cancellationToken)
    {
        // Off the caller's stack, so a provisioner that blocks cannot keep the force-cancel timer from firing.
        await Task.Yield();
        try
        {
            Stage(JobStages.SettingUp);
            if (_provisioner is null)
            {
                throw new JobFailureException($"This daemon does not offer the '{_job.Provisioner}' provisioner the job needs; start one with --provisioner {_job.Provisioner}=PATH.", JobErrorCodes.UnsupportedJob);
            }

            Directory.CreateDirectory(_workDirectory);
            var archive = await GetBlobAsync(_job.TemplateSourceArchive, cancellationToken).ConfigureAwait(false);
            return _job.TypeCase switch
            {
                AcquiredJob.TypeOneofCase.TemplateImport => await ImportAsync(archive, _job.TemplateImport, cancellationToken).ConfigureAwait(false),
                AcquiredJob.TypeOneofCase.WorkspaceBuild => await BuildAsync(archive, _job.WorkspaceBuild, cancellationToken).ConfigureAwait(false),
                AcquiredJob.TypeOneofCase.TemplateDryRun => await DryRunAsync(archive, _job.TemplateDryRun, cancellationToken).ConfigureAwait(false),
                _ => throw new JobFailureException($"The job has no type this daemon knows ({_job.TypeCase}); upgrade the daemon to match the coordinator.", JobErrorCodes.UnsupportedJob),
            };
        }
        catch (JobFailureException ex)
        {
            return Fail(ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail(new JobFailureException("The job was canceled.", JobErrorCodes.Canceled));
        }
        catch (ProvisionerSessionException ex) when (ex.InnerException is TemplateArchiveException)
        {
            // The template, not the daemon, is at fault: say so without a stack trace in the daemon's log.
            return Fail(new JobFailureException(ex.Message, JobErrorCodes.InvalidTemplateArchive));
        }
        catch (Exception ex)
        {
            DaemonLog.JobCrashed(_logger, ex, _job.JobId);
            return Fail(new JobFailureException(ex.Message, JobErrorCodes.DaemonError));
        }
    }

    private async Task<TerminalReport> ImportAsync(ByteString archive, AcquiredJob.Types.TemplateImport import, CancellationToken cancellationToken)
    {
        var session = await OpenSessionAsync(archive, ByteString.Empty, "", cancellationToken).ConfigureAwait(false);

        Stage(JobStages.Parsing);
        var parse = (await RunAsync(session, new Request { Parse = new ParseRequest() }, cancellationToken).ConfigureAwait(false)).Parse;
        ThrowIfFailed(parse.Error, cancellationToken);
        var update = new UpdateJobRequest { Readme = parse.Readme };
        update.TemplateVariables.AddRange(parse.TemplateVariables);
        update.UserVariableValues.AddRange(import.UserVariableValues);
        update.WorkspaceTags.Add(parse.WorkspaceTags);
        UpdateJobResponse resolved;
        try
        {
            resolved = await _reporter.SendUpdateAsync(update, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw new JobFailureException($"The coordinator refused the template's parse results: {ex.Status.Detail}", JobErrorCodes.CoordinatorRefused);
        }

        Stage(JobStages.DetectingPersistent);
        var start = await PlanAsync(session, ImportPlan(import, resolved, WorkspaceTransition.Start), cancellationToken).ConfigureAwait(false);
        Stage(JobStages.DetectingEphemeral);
        var stop = await PlanAsync(session, ImportPlan(import, resolved, WorkspaceTransition.Stop), cancellationToken).ConfigureAwait(false);

        var completed = new CompletedJob.Types.TemplateImport();
        completed.StartResources.AddRange(start.Resources);
        completed.StopResources.AddRange(stop.Resources);
        completed.RichParameters.AddRange(start.Parameters);
        completed.ExternalAuthProviders.AddRange(start.ExternalAuthProviders);
        completed.StartModules.AddRange(start.Modules);
        completed.StopModules.AddRange(stop.Modules);
        completed.Presets.AddRange(start.Presets);
        completed.HasExternalAgents = start.HasExternalAgents;
        completed.Timings.AddRange(start.Timings);
        completed.Timings.AddRange(stop.Timings);
        return new TerminalReport(_job.JobId, new CompletedJob { JobId = _job.JobId, TemplateImport = completed }, null, null);
    }

    private static PlanRequest ImportPlan(AcquiredJob.Types.TemplateImport import, UpdateJobResponse resolved, WorkspaceTransition transition)
    {
        var metadata = import.Metadata?.Clone() ?? new Metadata();
        metadata.WorkspaceTransition = transition;
        var request = new PlanRequest { Metadata = metadata };
        request.VariableValues.AddRange(resolved.VariableValues);
        return request;
    }

    private async Task<TerminalReport> BuildAsync(ByteString archive, AcquiredJob.Types.WorkspaceBuild build, CancellationToken cancellationToken)
    {
        var priorState = await GetBlobAsync(build.State, cancellationToken).ConfigureAwait(false);
        var session = await OpenSessionAsync(archive, priorState, build.LogLevel, cancellationToken).ConfigureAwait(false);
        var metadata = build.Metadata ?? new Metadata();

        Stage(JobStages.Planning);
        var planRequest = new PlanRequest { Metadata = metadata, Destroy = metadata.WorkspaceTransition == WorkspaceTransition.Destroy };
        planRequest.RichParameterValues.AddRange(build.RichParameterValues);
        planRequest.PreviousParameterValues.AddRange(build.PreviousParameterValues);
        planRequest.VariableValues.AddRange(build.VariableValues);
        planRequest.ExternalAuthProviders.AddRange(build.ExternalAuthProviders);
        var plan = await PlanAsync(session, planRequest, cancellationToken).ConfigureAwait(false);

        Stage(JobStages.Applying);
        var apply = (await RunAsync(session, new Request { Apply = new ApplyRequest { Metadata = metadata } }, cancellationToken).ConfigureAwait(false)).Apply;
        var timings = plan.Timings.Concat(apply.Timings).ToList();
        if (!string.IsNullOrEmpty(apply.Error))
        {
            throw Failure(apply.Error, cancellationToken, apply.State, timings);
        }

        var completed = new CompletedJob.Types.WorkspaceBuild();
        completed.Resources.AddRange(apply.Resources);
        completed.Timings.AddRange(timings);
        completed.Modules.AddRange(plan.Modules);
        return new TerminalReport(_job.JobId, new CompletedJob { JobId = _job.JobId, WorkspaceBuild = completed }, null, apply.State);
    }

    private async Task<TerminalReport> DryRunAsync(ByteString archive, AcquiredJob.Types.TemplateDryRun dryRun, CancellationToken cancellationToken)
    {
        var session = await OpenSessionAsync(archive, ByteString.Empty, "", cancellationToken).ConfigureAwait(false);
        Stage(JobStages.Planning);
        var request = new PlanRequest { Metadata = dryRun.Metadata ?? new Metadata() };
        request.RichParameterValues.AddRange(dryRun.RichParameterValues);
        request.VariableValues.AddRange(dryRun.VariableValues);
        var plan = await PlanAsync(session, request, cancellationToken).ConfigureAwait(false);

        var completed = new CompletedJob.Types.TemplateDryRun();
        completed.Resources.AddRange(plan.Resources);
        completed.Modules.AddRange(plan.Modules);
        return new TerminalReport(_job.JobId, new CompletedJob { JobId = _job.JobId, TemplateDryRun = completed }, null, null);
    }

    private async Task<IProvisionerSessionClient> OpenSessionAsync(ByteString archive, ByteString state, string logLevel, CancellationToken cancellationToken)
    {
        var connection = _provisioner!.Connect(_workDirectory);
        _session = await connection.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await _session.SendAsync(new Request
        {
            Config = new Config { TemplateSourceArchive = archive, State = state, ProvisionerLogLevel = logLevel ?? "" },
        }, cancellationToken).ConfigureAwait(false);
        return _session;
    }

    private async Task<PlanComplete> PlanAsync(IProvisionerSessionClient session, PlanRequest request, CancellationToken cancellationToken)
    {
        var plan = (await RunAsync(session, new Request { Plan = request }, cancellationToken).ConfigureAwait(false)).Plan;
        if (!string.IsNullOrEmpty(plan.Error))
        {
            throw Failure(plan.Error, cancellationToken, ByteString.Empty, plan.Timings);
        }

        return plan;
    }

    private async Task<Response> RunAsync(IProvisionerSessionClient session, Request request, CancellationToken cancellationToken)
    {
        var stage = _stage;
        try
        {
            // Awaited: a full log buffer holds the provisioner's output until the coordinator took it (invariant 5).
            return await session.SendAndWaitAsync(request, log => _reporter.LogAsync(LogSource.Provisioner, log.Level, stage, log.Output), cancellationToken).ConfigureAwait(false);
        }
        catch (ProvisionerSessionException ex)
        {
            // A session that already ended (e.g. its Config was refused) fails the send with "the session has
            // ended"; the reason why it ended is what the user needs, and the session's responses carry it.
            throw await SessionEndReasonAsync(session).ConfigureAwait(false) ?? ex;
        }
    }

    private static async Task<Exception?> SessionEndReasonAsync(IProvisionerSessionClient session)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await foreach (var unused in session.ReadAllAsync(timeout.Token).ConfigureAwait(false))
            {
            }
        }
        catch (ProvisionerSessionException reason)
        {
            return reason;
        }
        catch (OperationCanceledException)
        {
            // Still running: the original error stands.
        }

        return null;
    }

    private void ThrowIfFailed(string error, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(error))
        {
            throw Failure(error, cancellationToken, ByteString.Empty, []);
        }
    }

    private JobFailureException Failure(string error, CancellationToken cancellationToken, ByteString state, IEnumerable<Timing> timings)
    {
        var canceled = cancellationToken.IsCancellationRequested;
        var code = canceled ? JobErrorCodes.Canceled : JobErrorCodes.ProvisionerError(_provisioner?.Type ?? _job.Provisioner);
        var message = canceled && error == ProvisionerSessionHost.CanceledError ? "The job was canceled." : error;
        return new JobFailureException(message, code, state, timings);
    }

    private async Task<ByteString> GetBlobAsync(Blob? blob, CancellationToken cancellationToken)
    {
        switch (blob?.ContentCase)
        {
            case Blob.ContentOneofCase.Inline:
                return blob.Inline;
            case Blob.ContentOneofCase.File:
                var reference = blob.File;
                var bytes = await _connection.RetryAsync(token => _connection.DownloadAsync(_job.JobId, reference, token), cancellationToken).ConfigureAwait(false);
                return ByteString.CopyFrom(bytes);
            default:
                return ByteString.Empty;
        }
    }

    private TerminalReport Fail(JobFailureException failure)
    {
        DaemonLog.JobFailed(_logger, _job.JobId, failure.Message, failure.ErrorCode);
        _reporter.Log(LogSource.ProvisionerDaemon, ProtocolLogLevel.Error, _stage, failure.Message);
        var failed = new FailedJob { JobId = _job.JobId, Error = failure.Message, ErrorCode = failure.ErrorCode };
        switch (_job.TypeCase)
        {
            case AcquiredJob.TypeOneofCase.WorkspaceBuild:
                failed.WorkspaceBuild = new FailedJob.Types.WorkspaceBuild();
                failed.WorkspaceBuild.Timings.AddRange(failure.Timings);
                break;
            case AcquiredJob.TypeOneofCase.TemplateImport:
                failed.TemplateImport = new FailedJob.Types.TemplateImport();
                break;
            case AcquiredJob.TypeOneofCase.TemplateDryRun:
                failed.TemplateDryRun = new FailedJob.Types.TemplateDryRun();
                break;
        }

        return new TerminalReport(_job.JobId, null, failed, failure.State);
    }

    private void Stage(string stage)
    {
        if (_stage.Length > 0)
        {
            _reporter.FlushSoon();
        }

        _stage = stage;
        _reporter.Log(LogSource.ProvisionerDaemon, ProtocolLogLevel.Info, stage, stage);
    }

    private async Task EndSessionAsync(bool wait)
    {
        if (Interlocked.Exchange(ref _session, null) is not { } session)
        {
            return;
        }

        var disposal = session.DisposeAsync().AsTask();
        if (!wait)
        {
            // A provisioner that ignored Cancel may ignore the end of its session too: the report must not wait for it.
            _ = disposal.ContinueWith(static task => task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return;
        }

        try
        {
            await disposal.WaitAsync(SessionDisposeTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or ProvisionerSessionException or OperationCanceledException)
        {
            // The provisioner did not end its session in time; the work directory goes anyway.
            DaemonLog.CleanupFailed(_logger, ex, _workDirectory);
        }
    }

    /// <summary>
    /// Spools the terminal report with its state before anything else (so neither a lost coordinator nor a
    /// crash loses the state), sends the remaining logs, then delivers the report. The spooled copy and the
    /// work directory go only once the coordinator acknowledged it.
    /// </summary>
    private async Task<string> ReportAsync(TerminalReport report, CancellationToken abort)
    {
        try
        {
            // Not canceled by the shutdown timeout: writing the state to the local disk is what makes giving up safe.
            await _delivery.SpoolAsync(report, CancellationToken.None).ConfigureAwait(false);
            await _reporter.FlushAsync(abort).ConfigureAwait(false);

            // Also when the coordinator refused this job's updates (reaped, handed to another daemon): the state is
            // offered all the same, and the coordinator's answer decides whether it is recorded or kept aside.
            var (answer, delivered) = await _delivery.DeliverAsync(report, async (failure, token) =>
            {
                _reporter.Log(LogSource.ProvisionerDaemon, ProtocolLogLevel.Error, _stage, failure.Failed!.Error);
                await _reporter.FlushAsync(token).ConfigureAwait(false);
            }, abort).ConfigureAwait(false);
            if (answer.Kind != ReportAnswerKind.Acknowledged)
            {
                return JobOutcome.Abandoned;
            }

            return delivered.Completed is not null ? JobOutcome.Succeeded : delivered.IsCanceled ? JobOutcome.Canceled : JobOutcome.Failed;
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Gave up at the shutdown timeout: the report and its state stay spooled for the next start.
            return JobOutcome.Abandoned;
        }
    }
}
