using Hangfire;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// The coordinator's housekeeping, run as a Hangfire recurring job on <see cref="QueueName"/> (a queue no
/// daemon serves): fail hung and never-taken jobs, remove daemons gone for good, delete logs past their
/// retention, and enqueue ledger jobs that were committed without their Hangfire job (a caller that did not
/// publish in its transaction, or a coordinator version that enqueued after the insert).
/// </summary>
public sealed class CoordinatorMaintenance(ProvisionerJobQueue queue, FileStore files, IOptions<CoordinatorOptions> options, ILogger<CoordinatorMaintenance> logger)
{
    public const string QueueName = "coordinator";
    public const string RecurringJobId = "coordinator-maintenance";

    /// <summary>How old an unpublished pending job must be before it is re-enqueued (its creator may still be enqueueing it).</summary>
    public static readonly TimeSpan PublishGrace = TimeSpan.FromSeconds(30);

    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var reaped = await queue.ReapAsync(settings.JobHangTimeout, settings.JobPendingTimeout, cancellationToken).ConfigureAwait(false);
        foreach (var job in reaped)
        {
            CoordinatorMaintenanceLog.Reaped(logger, job.Id, job.ErrorCode ?? string.Empty);
        }

        await queue.Ledger.RemoveStaleDaemonsAsync(settings.DaemonRetention, cancellationToken).ConfigureAwait(false);
        await CoordinatorLiveness.PruneAsync(queue.Ledger.DataSource, settings, cancellationToken).ConfigureAwait(false);
        var collected = await files.CollectUnreferencedAsync(settings.UnreferencedFileRetention, cancellationToken).ConfigureAwait(false);
        if (collected > 0)
        {
            CoordinatorMaintenanceLog.FilesCollected(logger, collected);
        }

        if (settings.JobLogRetention > TimeSpan.Zero)
        {
            var deleted = await queue.Ledger.DeleteExpiredLogsAsync(settings.JobLogRetention, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (deleted > 0)
            {
                CoordinatorMaintenanceLog.LogsExpired(logger, deleted);
            }
        }

        var published = await queue.PublishMissingAsync(PublishGrace, cancellationToken).ConfigureAwait(false);
        if (published > 0)
        {
            CoordinatorMaintenanceLog.Republished(logger, published);
        }
    }
}
