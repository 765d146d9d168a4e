using System.Text.Json;

using Dapper;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Api.Jobs;

/// <summary>/jobs: the ledger as users see it, cancellation, and logs (paged by cursor, or followed as Server-Sent Events).</summary>
internal static class JobEndpoints
{
    private const int LogPageSize = 1000;

    /// <summary>A follower re-reads at least this often, so that a lost notification delays it, never stalls it.</summary>
    private static readonly TimeSpan FollowRecheck = TimeSpan.FromSeconds(10);

    public static void Map(RouteGroupBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapGet("/", ListAsync).WithName("ListJobs").Produces<List<JobResponse>>();
        jobs.MapGet("/{id:guid}", GetAsync).WithName("GetJob").Produces<JobResponse>();
        jobs.MapPost("/{id:guid}/cancel", CancelAsync).WithName("CancelJob").Produces<JobResponse>();
        jobs.MapGet("/{id:guid}/logs", LogsAsync).WithName("GetJobLogs").Produces<List<JobLogResponse>>().Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async Task<IResult> ListAsync(string? status, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        string[]? statuses = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            statuses = [.. status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            foreach (var value in statuses)
            {
                try
                {
                    _ = ProvisionerJobStatuses.Parse(value);
                }
                catch (ArgumentOutOfRangeException)
                {
                    throw ApiProblemException.Invalid("status", $"Unknown status '{value}': use pending, running, canceling, succeeded, failed or canceled (comma-separated for several).");
                }
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var jobs = await JobViews.ListAsync(
            connection,
            $"WHERE (@Statuses::text[] IS NULL OR j.status = ANY(@Statuses)) AND {JobViews.VisibleTo}",
            new { Statuses = statuses, SeesAll = caller.IsTemplateAdmin, UserId = caller.Id },
            options.Value.JobHangTimeout,
            cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(jobs);
    }

    private static async Task<IResult> GetAsync(Guid id, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var job = await JobViews.GetAsync(connection, id, caller, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Job {id} does not exist.");
        return TypedResults.Ok(job);
    }

    private static async Task<IResult> CancelAsync(
        Guid id, ApiUser caller, NpgsqlDataSource dataSource, ProvisionerJobQueue queue, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var job = await JobViews.GetAsync(connection, id, caller, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Job {id} does not exist.");
        if (job.Status is "succeeded" or "failed" or "canceled")
        {
            throw ApiProblemException.Conflict($"Job {id} has already ended ({job.Status}); there is nothing to cancel.");
        }

        await queue.CancelAsync(id, cancellationToken).ConfigureAwait(false);
        var canceled = await JobViews.GetAsync(connection, id, caller, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(canceled);
    }

    private static async Task<IResult> LogsAsync(
        Guid id,
        long? after,
        bool? follow,
        HttpContext http,
        ApiUser caller,
        NpgsqlDataSource dataSource,
        JobLogNotifications notifications,
        IOptions<CoordinatorOptions> options,
        IOptions<JsonOptions> json,
        CancellationToken cancellationToken)
    {
        var cursor = after ?? 0;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            _ = await JobViews.GetAsync(connection, id, caller, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false)
                ?? throw ApiProblemException.NotFound($"Job {id} does not exist.");
            if (follow != true)
            {
                var (logs, _) = await ReadAsync(connection, id, cursor, cancellationToken).ConfigureAwait(false);
                return TypedResults.Ok(logs);
            }
        }

        await FollowAsync(http, dataSource, id, cursor, notifications, json.Value.SerializerOptions, cancellationToken).ConfigureAwait(false);
        return TypedResults.Empty;
    }

    /// <summary>
    /// Streams log lines as Server-Sent Events (<c>event: log</c>, <c>id:</c> the cursor) until the job ends,
    /// then sends <c>event: end</c> with the job's status. Woken by PostgreSQL notifications, so lines stored
    /// through any replica arrive here within milliseconds.
    /// </summary>
    private static async Task FollowAsync(
        HttpContext http, NpgsqlDataSource dataSource, Guid jobId, long cursor, JobLogNotifications notifications, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);

        while (!cancellationToken.IsCancellationRequested)
        {
            // Take the wake-up before reading, so a notification between the read and the wait is not missed.
            var next = notifications.NextAsync(jobId);

            // A connection per read, not per follower: a follower spends most of its life waiting.
            IReadOnlyList<JobLogResponse> logs;
            string status;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
            {
                (logs, status) = await ReadAsync(connection, jobId, cursor, cancellationToken).ConfigureAwait(false);
            }

            foreach (var log in logs)
            {
                await response.WriteAsync($"event: log\nid: {log.Id}\ndata: {JsonSerializer.Serialize(log, json)}\n\n", cancellationToken).ConfigureAwait(false);
                cursor = log.Id;
            }

            if (logs.Count > 0)
            {
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (logs.Count == LogPageSize)
            {
                continue;
            }

            if (ProvisionerJobStatuses.Parse(status).IsTerminal())
            {
                await response.WriteAsync($"event: end\ndata: {JsonSerializer.Serialize(new { status }, json)}\n\n", cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            await next.WaitAsync(FollowRecheck, cancellationToken).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>Lines after the cursor, and the job's status read in the same snapshot (so no line stored before the end is missed).</summary>
    private static async Task<(IReadOnlyList<JobLogResponse> Logs, string Status)> ReadAsync(NpgsqlConnection connection, Guid jobId, long after, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var status = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT status FROM provisioner_jobs WHERE id = @JobId", new { JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(long Id, DateTime CreatedAt, string Source, string Level, string Stage, string Output)>(new CommandDefinition(
            "SELECT id, created_at, source, level, stage, output FROM provisioner_job_logs WHERE job_id = @JobId AND id > @After ORDER BY id LIMIT @Limit",
            new { JobId = jobId, After = after, Limit = LogPageSize },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ([.. rows.Select(row => new JobLogResponse(row.Id, row.CreatedAt, row.Source, row.Level, row.Stage, row.Output))], status ?? "failed");
    }
}
