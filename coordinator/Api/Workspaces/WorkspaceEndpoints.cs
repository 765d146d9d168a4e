using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Templates;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>
/// /workspaces and their builds: HTTP in and out only. Who may see and change what is decided by
/// <see cref="WorkspaceStore"/> (the data-access layer) and the <see cref="WorkspaceBuilder"/>; a member asking
/// for someone else's workspace gets 404, the same as for one that does not exist, so names do not leak.
/// </summary>
internal static class WorkspaceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var workspaces = api.MapGroup("/workspaces").WithTags("Workspaces");
        workspaces.MapPost("/", CreateAsync).WithName("CreateWorkspace").Produces<WorkspaceResponse>(StatusCodes.Status201Created);
        workspaces.MapGet("/", ListAsync).WithName("ListWorkspaces").Produces<List<WorkspaceResponse>>();
        workspaces.MapGet("/{name}", GetAsync).WithName("GetWorkspace").Produces<WorkspaceResponse>();
        workspaces.MapPost("/{name}/builds", CreateBuildAsync).WithName("CreateWorkspaceBuild").Produces<BuildResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
        workspaces.MapGet("/{name}/builds", ListBuildsAsync).WithName("ListWorkspaceBuilds").Produces<List<BuildResponse>>();
        workspaces.MapGet("/{name}/builds/{number:int}", GetBuildAsync).WithName("GetWorkspaceBuild").Produces<BuildResponse>();
        workspaces.MapGet("/{name}/builds/{number:int}/timings", GetTimingsAsync).WithName("GetWorkspaceBuildTimings").Produces<BuildTimingsResponse>();
        workspaces.MapGet("/{name}/builds/{number:int}/state", GetStateAsync).WithName("GetWorkspaceBuildState").Produces(StatusCodes.Status200OK, contentType: "application/json").Produces(StatusCodes.Status204NoContent);
        workspaces.MapPut("/{name}/state", PutStateAsync).WithName("PutWorkspaceState").Produces<BuildResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> CreateAsync(CreateWorkspaceRequest request, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken)
    {
        var created = await workspaces.CreateAsync(caller, request.Name, request.Template, ToPairs(request.RichParameterValues), request.TemplateVersionPreset, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{created.Name}", created);
    }

    private static async Task<IResult> ListAsync(string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workspaces.ListAsync(caller, owner, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetAsync(string name, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workspaces.GetAsync(caller, name, owner, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> CreateBuildAsync(
        string name, string? owner, CreateBuildRequest request, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken)
    {
        // A bad transition is a bad request whatever the workspace.
        var transition = WorkspaceBuilder.ParseTransition(request.Transition);
        var build = await workspaces.BuildAsync(
            caller, name, owner, transition, ToPairs(request.RichParameterValues), request.TemplateVersion, request.TemplateVersionPreset, request.Orphan ?? false, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{build.WorkspaceName}/builds/{build.BuildNumber}", build);
    }

    private static async Task<IResult> ListBuildsAsync(string name, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workspaces.ListBuildsAsync(caller, name, owner, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetBuildAsync(string name, int number, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workspaces.GetBuildAsync(caller, name, number, owner, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetTimingsAsync(string name, int number, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workspaces.GetBuildTimingsAsync(caller, name, number, owner, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetStateAsync(string name, int number, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken)
    {
        var state = await workspaces.GetStateAsync(caller, name, number, owner, cancellationToken).ConfigureAwait(false);
        return state.Length > 0 ? TypedResults.File(state, "application/json") : TypedResults.NoContent();
    }

    /// <summary>Records a new build with the given state without running Terraform (for repairs and imports).</summary>
    private static async Task<IResult> PutStateAsync(
        string name, string? owner, HttpContext http, ApiUser caller, WorkspaceStore workspaces, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        // Refused callers are refused before their body is read.
        await workspaces.RequireReplaceStateAsync(caller, name, owner, cancellationToken).ConfigureAwait(false);
        var maxBytes = options.Value.MaxUploadBytes;
        if (http.Request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes + 1;
        }

        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
        if (body.Length > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        var build = await workspaces.ReplaceStateAsync(caller, name, owner, body.ToArray(), cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{build.WorkspaceName}/builds/{build.BuildNumber}", build);
    }

    private static ApiProblemException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, "State too large", $"The state is larger than the limit of {maxBytes} bytes (--max-upload-size).", "state");

    private static KeyValuePair<string, string>[]? ToPairs(IReadOnlyList<NameValue>? values) =>
        values?.Select(value => KeyValuePair.Create(value.Name ?? string.Empty, value.Value ?? string.Empty)).ToArray();
}
