using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>
/// /workspaces/{name}/orphaned-states: states that arrived after their build ended while a newer build existed
/// (Workspaces.WorkspaceStates). They are never discarded; whoever may read the workspace's state reads them, and
/// its owner (or an admin) restores the right one as a new build, like `state push`.
/// </summary>
internal static class OrphanedStateEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var orphans = api.MapGroup("/workspaces/{name}/orphaned-states").WithTags("Workspaces");
        orphans.MapGet("/", ListAsync).WithName("ListOrphanedStates").Produces<List<OrphanedStateResponse>>();
        orphans.MapGet("/{id:guid}", GetAsync).WithName("GetOrphanedState").Produces(StatusCodes.Status200OK, contentType: "application/json");
        orphans.MapPost("/{id:guid}/restore", RestoreAsync).WithName("RestoreOrphanedState").Produces<BuildResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ListAsync(string name, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workspaces.ListOrphanedStatesAsync(caller, name, owner, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetAsync(string name, Guid id, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken) =>
        TypedResults.File(await workspaces.GetOrphanedStateAsync(caller, name, id, owner, cancellationToken).ConfigureAwait(false), "application/json");

    private static async Task<IResult> RestoreAsync(string name, Guid id, string? owner, ApiUser caller, WorkspaceStore workspaces, CancellationToken cancellationToken)
    {
        var build = await workspaces.RestoreOrphanedStateAsync(caller, name, id, owner, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{build.WorkspaceName}/builds/{build.BuildNumber}", build);
    }
}
