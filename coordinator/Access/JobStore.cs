using Dapper;

using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// Jobs and their logs, for a caller: a job one may not see answers 404 (<see cref="AccessPolicy.JobVisibleSql"/>);
/// cancelling needs more than seeing (<see cref="AccessPolicy.CanCancelJob"/>): a build job is its workspace
/// owner's (and admins'), a dry run its initiator's (and admins'), an import template admins'. Cancelling itself is the ledger's (through the queue).
/// </summary>
internal sealed class JobStore(NpgsqlDataSource dataSource, ProvisionerJobQueue queue, IOptions<CoordinatorOptions> options)
{
    public const int LogPageSize = 1000;

    private TimeSpan OfflineAfter => options.Value.JobHangTimeout;

    public async Task<IReadOnlyList<JobResponse>> ListAsync(ApiUser caller, IReadOnlyList<string>? statuses, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await JobViews.ListAsync(
            connection,
            $"WHERE (@Statuses::text[] IS NULL OR j.status = ANY(@Statuses)) AND {AccessPolicy.JobVisibleSql}",
            new { Statuses = statuses?.ToArray(), SeesAll = AccessPolicy.SeesEveryWorkspace(caller), UserId = caller.Id },
            OfflineAfter,
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<JobResponse> GetAsync(ApiUser caller, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await JobViews.GetAsync(connection, jobId, caller, OfflineAfter, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Job {jobId} does not exist.");
    }

    /// <summary>Cancels a job: a pending one at once, a running one becomes canceling (its daemon learns it from its next heartbeat).</summary>
    public async Task<JobResponse> CancelAsync(ApiUser caller, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var job = await JobViews.GetAsync(connection, jobId, caller, OfflineAfter, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Job {jobId} does not exist.");
        var build = await connection.QuerySingleOrDefaultAsync<(Guid OwnerId, string OwnerName, string Workspace)>(new CommandDefinition(
            "SELECT w.owner_id, u.username, w.name FROM workspace_builds b JOIN workspaces w ON w.id = b.workspace_id JOIN users u ON u.id = w.owner_id WHERE b.job_id = @JobId",
            new { JobId = jobId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var isBuild = job.Type == ProvisionerJobType.WorkspaceBuild.ToText();
        var isDryRun = job.Type == ProvisionerJobType.TemplateVersionDryRun.ToText();

        // A build job whose build row is missing belongs to nobody: only admins may cancel it. A dry run is its initiator's, like a workspace is its owner's.
        Guid? owner = isBuild ? (build.Workspace is null ? Guid.Empty : build.OwnerId)
            : isDryRun ? await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
                "SELECT initiator_id FROM provisioner_jobs WHERE id = @JobId", new { JobId = jobId }, cancellationToken: cancellationToken)).ConfigureAwait(false) ?? Guid.Empty
            : null;
        if (!AccessPolicy.CanCancelJob(caller, owner))
        {
            throw ApiProblemException.Forbidden(isBuild
                ? $"Only '{build.OwnerName}' (the owner of workspace '{build.Workspace}') or an admin can cancel job {jobId}; user '{caller.Username}' ({caller.Role}) may only read it."
                : isDryRun
                    ? $"Only the user who started dry run {jobId}, or an admin, can cancel it; user '{caller.Username}' ({caller.Role}) may only read it."
                    : $"Only template admins and admins can cancel job {jobId} ({job.Type}).");
        }

        if (job.Status is "succeeded" or "failed" or "canceled")
        {
            throw ApiProblemException.Conflict($"Job {jobId} has already ended ({job.Status}); there is nothing to cancel.");
        }

        await queue.CancelAsync(jobId, cancellationToken).ConfigureAwait(false);
        return (await JobViews.GetAsync(connection, jobId, caller, OfflineAfter, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Up to <see cref="LogPageSize"/> lines after the cursor, and the job's status read in the same snapshot (so no line
    /// stored before the end is missed); 404 when the caller may not see the job (checked on every read, so a follower too).
    /// </summary>
    public async Task<(IReadOnlyList<JobLogResponse> Logs, string Status)> ReadLogsAsync(ApiUser caller, Guid jobId, long after, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            $"SELECT j.status FROM provisioner_jobs j WHERE j.id = @JobId AND {AccessPolicy.JobVisibleSql}",
            new { JobId = jobId, SeesAll = AccessPolicy.SeesEveryWorkspace(caller), UserId = caller.Id },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Job {jobId} does not exist.");
        var rows = await connection.QueryAsync<(long Id, DateTime CreatedAt, string Source, string Level, string Stage, string Output)>(new CommandDefinition(
            "SELECT id, created_at, source, level, stage, output FROM provisioner_job_logs WHERE job_id = @JobId AND id > @After ORDER BY id LIMIT @Limit",
            new { JobId = jobId, After = after, Limit = LogPageSize },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ([.. rows.Select(row => new JobLogResponse(row.Id, row.CreatedAt, row.Source, row.Level, row.Stage, row.Output))], status);
    }
}
