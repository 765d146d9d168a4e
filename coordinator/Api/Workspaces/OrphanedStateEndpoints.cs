using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>
/// /workspaces/{name}/orphaned-states: states that arrived after their build ended while a newer build existed
/// (<see cref="WorkspaceStates"/>). They are never discarded; the workspace's owner (or an admin) reads them and
/// restores the right one as a new build, like `state push`.
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

    private static async Task<IResult> ListAsync(string name, string? owner, ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await WorkspaceEndpoints.RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var orphans = await WorkspaceStates.ListOrphansAsync(connection, workspace.Id, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(orphans.Select(orphan => new OrphanedStateResponse(
            orphan.Id, orphan.BuildNumber, orphan.JobId, orphan.Size, orphan.Reason, orphan.CreatedAt, orphan.RestoredAt, orphan.RestoredBuildNumber)).ToList());
    }

    private static async Task<IResult> GetAsync(string name, Guid id, string? owner, ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await WorkspaceEndpoints.RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var state = await WorkspaceStates.ReadOrphanAsync(connection, null, workspace.Id, id, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Workspace '{name}' has no orphaned state {id}.");
        return TypedResults.File(state, "application/json");
    }

    private static async Task<IResult> RestoreAsync(
        string name, Guid id, string? owner, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await WorkspaceEndpoints.RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        if (workspace.OwnerId != caller.Id && !caller.IsAdmin)
        {
            throw ApiProblemException.Forbidden($"Only '{workspace.OwnerName}' or an admin can restore a state of workspace '{workspace.Name}'.");
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var state = await WorkspaceStates.ReadOrphanAsync(connection, transaction, workspace.Id, id, cancellationToken).ConfigureAwait(false)
            ?? throw ApiProblemException.NotFound($"Workspace '{name}' has no orphaned state {id}.");
        var number = await WorkspaceBuilds.RecordStateAsync(connection, transaction, workspace, state, caller, "orphan_restored", cancellationToken).ConfigureAwait(false);
        var buildId = await Dapper.SqlMapper.ExecuteScalarAsync<Guid>(connection, new Dapper.CommandDefinition(
            "SELECT id FROM workspace_builds WHERE workspace_id = @Id AND build_number = @Number", new { workspace.Id, Number = number }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await WorkspaceStates.MarkRestoredAsync(connection, transaction, id, buildId, caller.Id, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        var builds = await WorkspaceEndpoints.LoadBuildsAsync(connection, workspace, number, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{workspace.Name}/builds/{number}", builds[0]);
    }
}
