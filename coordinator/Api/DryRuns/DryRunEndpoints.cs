using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Workspaces;

namespace Provisioning.Coordinator.Api.DryRuns;

/// <summary>
/// /templates/{name}/versions/{version}/dry-run: Coder's workspace preview (POST /templateversions/{id}/dry-run and its
/// job, resources, logs and cancel), addressed by names like the rest of this API. HTTP in and out only: what may be
/// previewed, with which values, and who sees the result is <see cref="DryRunStore"/>'s to decide.
/// </summary>
internal static class DryRunEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var dryRuns = api.MapGroup("/templates/{name}/versions/{version}/dry-run").WithTags("Templates");
        dryRuns.MapPost("/", StartAsync).WithName("CreateTemplateVersionDryRun").Produces<DryRunResponse>(StatusCodes.Status201Created);
        dryRuns.MapGet("/{job:guid}", GetAsync).WithName("GetTemplateVersionDryRun").Produces<DryRunResponse>();
        dryRuns.MapGet("/{job:guid}/resources", ResourcesAsync).WithName("GetTemplateVersionDryRunResources").Produces<List<ResourceResponse>>();
        dryRuns.MapGet("/{job:guid}/logs", LogsAsync).WithName("GetTemplateVersionDryRunLogs").Produces<List<JobLogResponse>>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        dryRuns.MapPost("/{job:guid}/cancel", CancelAsync).WithName("CancelTemplateVersionDryRun").Produces<DryRunResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> StartAsync(string name, string version, CreateDryRunRequest request, ApiUser caller, DryRunStore dryRuns, CancellationToken cancellationToken)
    {
        var dryRun = await dryRuns.StartAsync(caller, name, version, request, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/templates/{dryRun.TemplateName}/versions/{dryRun.TemplateVersionName}/dry-run/{dryRun.Id}", dryRun);
    }

    private static async Task<IResult> GetAsync(string name, string version, Guid job, ApiUser caller, DryRunStore dryRuns, CancellationToken cancellationToken) =>
        TypedResults.Ok(await dryRuns.GetAsync(caller, name, version, job, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> ResourcesAsync(string name, string version, Guid job, ApiUser caller, DryRunStore dryRuns, CancellationToken cancellationToken) =>
        TypedResults.Ok(await dryRuns.GetResourcesAsync(caller, name, version, job, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> CancelAsync(string name, string version, Guid job, ApiUser caller, DryRunStore dryRuns, CancellationToken cancellationToken) =>
        TypedResults.Ok(await dryRuns.CancelAsync(caller, name, version, job, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> LogsAsync(
        string name,
        string version,
        Guid job,
        long? after,
        bool? follow,
        HttpContext http,
        ApiUser caller,
        DryRunStore dryRuns,
        JobStore jobs,
        JobLogNotifications notifications,
        IOptions<JsonOptions> json,
        CancellationToken cancellationToken)
    {
        await dryRuns.RequireAsync(caller, name, version, job, cancellationToken).ConfigureAwait(false);
        return await JobEndpoints.LogsAsync(job, after, follow, http, caller, jobs, notifications, json, cancellationToken).ConfigureAwait(false);
    }
}
