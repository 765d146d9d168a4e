using System.Runtime.InteropServices;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Provisioning.Daemon.Hosting;

/// <summary>
/// Runs a <see cref="ProvisionerDaemon"/> under the generic host. The host's stop (SIGTERM) drains:
/// no new jobs, running ones finish within <see cref="ProvisionerDaemonOptions.DrainTimeout"/>, after
/// which they are canceled gracefully and reported (the host's shutdown timeout is raised to cover it).
/// The drain runs in <see cref="StoppingAsync"/>, before any hosted service's StopAsync: in
/// <c>provisioning server</c> the coordinator's web server is still up while the built-in daemon drains,
/// so its terminal reports are delivered instead of waiting in the spool for the next start. SIGINT (Ctrl+C) shuts down: running jobs are canceled gracefully and reported. A daemon
/// that stops for good (refused credentials, unusable provisioner) stops the host with its exit code.
/// </summary>
public sealed partial class ProvisionerDaemonHostedService(
    ProvisionerDaemon daemon,
    IHostApplicationLifetime lifetime,
    ILogger<ProvisionerDaemonHostedService> logger) : BackgroundService, IHostedLifecycleService
{
    private PosixSignalRegistration? _interrupt;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The console lifetime turns SIGINT into a host stop too; this registration only adds "cancel running jobs" first.
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { _ = daemon.ShutdownAsync(CancellationToken.None); });
        return base.StartAsync(cancellationToken);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The host calls every StoppingAsync before any StopAsync: the drain happens while the rest of the host still serves.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => daemon.DrainAsync(cancellationToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Already drained in StoppingAsync (a second drain returns at once); canceling the host's token (its
        // shutdown timeout) escalates the drain to a shutdown.
        await daemon.DrainAsync(cancellationToken).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Dispose()
    {
        _interrupt?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await daemon.ExecuteAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (ProvisionerDaemonException ex)
        {
            LogStopped(logger, ex.Message, ex.ExitCode);
            Environment.ExitCode = ex.ExitCode;
            lifetime.StopApplication();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug, not a refusal: still end the process with a failure code rather than idle without a daemon.
            LogCrashed(logger, ex);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Critical, Message = "The provisioner daemon crashed")]
    private static partial void LogCrashed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1300, Level = LogLevel.Critical, Message = "The provisioner daemon stopped: {Reason} (exit code {ExitCode})")]
    private static partial void LogStopped(ILogger logger, string reason, int exitCode);
}
