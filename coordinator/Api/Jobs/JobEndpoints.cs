using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Api.Jobs;

/// <summary>/jobs: the ledger as users see it, cancellation, and logs (paged by cursor, or followed as Server-Sent Events); who may see and cancel what is <see cref="JobStore"/>'s to decide.</summary>
internal static class JobEndpoints
{
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

    private static async Task<IResult> ListAsync(string? status, ApiUser caller, JobStore jobs, CancellationToken cancellationToken)
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

        return TypedResults.Ok(await jobs.ListAsync(caller, statuses, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> GetAsync(Guid id, ApiUser caller, JobStore jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await jobs.GetAsync(caller, id, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> CancelAsync(Guid id, ApiUser caller, JobStore jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await jobs.CancelAsync(caller, id, cancellationToken).ConfigureAwait(false));

    /// <summary>A job's logs, a page after the cursor or followed as Server-Sent Events; the dry-run endpoints serve theirs through here after checking the job is theirs.</summary>
    internal static async Task<IResult> LogsAsync(
        Guid id,
        long? after,
        bool? follow,
        HttpContext http,
        ApiUser caller,
        JobStore jobs,
        JobLogNotifications notifications,
        IOptions<JsonOptions> json,
        CancellationToken cancellationToken)
    {
        var cursor = after ?? 0;

        // Read before answering: a job the caller may not see is a 404, not an empty stream.
        var (logs, _) = await jobs.ReadLogsAsync(caller, id, cursor, cancellationToken).ConfigureAwait(false);
        if (follow != true)
        {
            return TypedResults.Ok(logs);
        }

        await FollowAsync(http, jobs, caller, id, cursor, notifications, json.Value.SerializerOptions, cancellationToken).ConfigureAwait(false);
        return TypedResults.Empty;
    }

    /// <summary>
    /// Streams log lines as Server-Sent Events (<c>event: log</c>, <c>id:</c> the cursor) until the job ends,
    /// then sends <c>event: end</c> with the job's status. Woken by PostgreSQL notifications, so lines stored
    /// through any replica arrive here within milliseconds.
    /// </summary>
    private static async Task FollowAsync(
        HttpContext http, JobStore jobs, ApiUser caller, Guid jobId, long cursor, JobLogNotifications notifications, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        // The API's encoder, and never indented: an event's data is one line.
        using var lineWriter = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = json.Encoder, Indented = false });

        while (!cancellationToken.IsCancellationRequested)
        {
            // Take the wake-up before reading, so a notification between the read and the wait is not missed.
            var next = notifications.NextAsync(jobId);

            // A connection per read, not per follower: a follower spends most of its life waiting.
            var (logs, status) = await jobs.ReadLogsAsync(caller, jobId, cursor, cancellationToken).ConfigureAwait(false);

            if (logs.Count > 0)
            {
                // A page as one write: each event's bytes go straight into the response's pipe (no string per line,
                // no write per line), then one flush sends the page.
                WriteLogEvents(response.BodyWriter, logs, lineWriter, json);
                cursor = logs[^1].Id;
                await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (logs.Count == JobStore.LogPageSize)
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

    private static ReadOnlySpan<byte> LogEventStart => "event: log\nid: "u8;

    private static ReadOnlySpan<byte> DataField => "\ndata: "u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    /// <summary>
    /// Writes each line as <c>event: log</c>, <c>id: {id}</c>, <c>data: {the line as the API's JSON}</c> into
    /// <paramref name="output"/>, serialized with the API's options as before, without flushing.
    /// </summary>
    private static void WriteLogEvents(PipeWriter output, IReadOnlyList<JobLogResponse> logs, Utf8JsonWriter lineWriter, JsonSerializerOptions json)
    {
        foreach (var log in logs)
        {
            output.Write(LogEventStart);
            // A long takes at most 20 digits, so the span is always large enough.
            _ = log.Id.TryFormat(output.GetSpan(20), out var written, provider: CultureInfo.InvariantCulture);
            output.Advance(written);
            output.Write(DataField);
            lineWriter.Reset(output);
            JsonSerializer.Serialize(lineWriter, log, json);
            lineWriter.Flush();
            output.Write(EventEnd);
        }
    }
}
