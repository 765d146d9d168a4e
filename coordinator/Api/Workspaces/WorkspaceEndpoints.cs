using Dapper;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Templates;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Workspaces;
using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>
/// /workspaces and their builds. A workspace is addressed by name among its owner's (the caller's, or
/// <c>?owner=</c> for template admins and admins). A member asking for someone else's workspace gets 404,
/// the same as for one that does not exist, so names do not leak.
/// </summary>
internal static class WorkspaceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var workspaces = api.MapGroup("/workspaces").WithTags("Workspaces");
        workspaces.MapPost("/", CreateAsync).WithName("CreateWorkspace").Produces<WorkspaceResponse>(StatusCodes.Status201Created);
        workspaces.MapGet("/", ListAsync).WithName("ListWorkspaces").Produces<List<WorkspaceResponse>>();
        workspaces.MapGet("/{name}", GetAsync).WithName("GetWorkspace").Produces<WorkspaceResponse>();
        workspaces.MapPost("/{name}/builds", CreateBuildAsync).WithName("CreateWorkspaceBuild").Produces<BuildResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        workspaces.MapGet("/{name}/builds", ListBuildsAsync).WithName("ListWorkspaceBuilds").Produces<List<BuildResponse>>();
        workspaces.MapGet("/{name}/builds/{number:int}", GetBuildAsync).WithName("GetWorkspaceBuild").Produces<BuildResponse>();
        workspaces.MapGet("/{name}/builds/{number:int}/state", GetStateAsync).WithName("GetWorkspaceBuildState").Produces(StatusCodes.Status200OK, contentType: "application/json").Produces(StatusCodes.Status204NoContent);
        workspaces.MapPut("/{name}/state", PutStateAsync).WithName("PutWorkspaceState").Produces<BuildResponse>(StatusCodes.Status201Created);
    }

    private const string SelectWorkspace =
        """
        SELECT w.id, w.name, w.owner_id, u.username, u.email, w.template_id, t.name, w.created_at
        FROM workspaces w JOIN users u ON u.id = w.owner_id JOIN templates t ON t.id = w.template_id
        """;

    private static async Task<IResult> CreateAsync(
        CreateWorkspaceRequest request, ApiUser caller, NpgsqlDataSource dataSource, ProvisionerJobQueue queue, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim() ?? string.Empty;
        if (!ApiNames.IsValid(name))
        {
            throw ApiProblemException.Invalid("name", $"'{name}' is not a valid workspace name: {ApiNames.Rule}.");
        }

        if (string.IsNullOrWhiteSpace(request.Template))
        {
            throw ApiProblemException.Invalid("template", "Name the template to create the workspace from.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var template = await connection.QuerySingleOrDefaultAsync<(Guid Id, string Name, Guid? ActiveVersionId)>(new CommandDefinition(
            "SELECT id, name, active_version_id FROM templates WHERE NOT deleted AND lower(name) = lower(@Name)",
            new { Name = request.Template.Trim() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (template.Id == Guid.Empty)
        {
            throw ApiProblemException.Invalid("template", $"Template '{request.Template}' does not exist: list templates with GET /api/v1/templates.");
        }

        if (template.ActiveVersionId is not { } versionId)
        {
            throw ApiProblemException.Invalid("template", $"Template '{template.Name}' has no version whose import succeeded yet: push one and wait for its import.");
        }

        var parameters = await WorkspaceBuilds.LoadParametersAsync(connection, null, versionId, cancellationToken).ConfigureAwait(false);
        var values = WorkspaceBuilds.ResolveParameters(parameters, request.RichParameterValues, previous: null);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var taken = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM workspaces WHERE owner_id = @OwnerId AND lower(name) = lower(@Name) AND NOT deleted)",
            new { OwnerId = caller.Id, Name = name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (taken)
        {
            throw ApiProblemException.Conflict($"You already have a workspace named '{name}'.");
        }

        var workspaceId = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
            "INSERT INTO workspaces (owner_id, template_id, name) VALUES (@OwnerId, @TemplateId, @Name) RETURNING id",
            new { OwnerId = caller.Id, TemplateId = template.Id, Name = name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var workspace = new WorkspaceRecord(workspaceId, name, caller.Id, caller.Username, caller.Email, template.Id, template.Name, DateTime.UtcNow);
        var (_, job) = await WorkspaceBuilds.InsertAsync(
            connection, transaction, queue.Ledger, new WorkspaceBuilds.Plan(workspace, versionId, "start", values), caller, cancellationToken).ConfigureAwait(false);
        // In the same transaction: the job is in its queue exactly when the request's rows exist.
        await queue.PublishAsync(connection, transaction, job, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        var created = await RequireAsync(connection, caller, name, null, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{name}", await ToResponseAsync(connection, created, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> ListAsync(string? owner, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(Guid, string, Guid, string, string, Guid, string, DateTime)>(new CommandDefinition(
            $"""
            {SelectWorkspace}
            WHERE NOT w.deleted AND (@SeesAll OR w.owner_id = @UserId) AND (@Owner::text IS NULL OR lower(u.username) = lower(@Owner))
            ORDER BY u.username, w.name
            """,
            new { SeesAll = caller.IsTemplateAdmin, UserId = caller.Id, Owner = owner }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var result = new List<WorkspaceResponse>();
        foreach (var row in rows)
        {
            result.Add(await ToResponseAsync(connection, ToRecord(row), options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false));
        }

        return TypedResults.Ok(result);
    }

    private static async Task<IResult> GetAsync(string name, string? owner, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(await ToResponseAsync(connection, workspace, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> CreateBuildAsync(
        string name, string? owner, CreateBuildRequest request, ApiUser caller, NpgsqlDataSource dataSource, ProvisionerJobQueue queue,
        IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        var transition = request.Transition?.Trim().ToLowerInvariant() ?? string.Empty;
        if (!WorkspaceBuilds.Transitions.Contains(transition))
        {
            throw ApiProblemException.Invalid("transition", $"Unknown transition '{request.Transition}': use start, stop or delete.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        RequireChange(caller, workspace);
        var previous = await connection.QuerySingleAsync<(Guid Id, Guid VersionId)>(new CommandDefinition(
            "SELECT id, template_version_id FROM workspace_builds WHERE workspace_id = @Id ORDER BY build_number DESC LIMIT 1",
            new { workspace.Id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var versionId = previous.VersionId;
        if (!string.IsNullOrWhiteSpace(request.TemplateVersion))
        {
            versionId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
                "SELECT id FROM template_versions WHERE template_id = @TemplateId AND lower(name) = lower(@Name)",
                new { workspace.TemplateId, Name = request.TemplateVersion.Trim() }, cancellationToken: cancellationToken)).ConfigureAwait(false)
                ?? throw ApiProblemException.Invalid("template_version", $"Template '{workspace.TemplateName}' has no version '{request.TemplateVersion}'.");
            var source = await WorkspaceBuilds.LoadVersionAsync(connection, null, versionId, cancellationToken).ConfigureAwait(false);
            if (source.JobStatus != "succeeded")
            {
                throw ApiProblemException.Invalid("template_version", $"Version '{source.Name}' cannot be built: its import is {source.JobStatus}.");
            }
        }

        var previousValues = (await connection.QueryAsync<(string Name, string Value)>(new CommandDefinition(
            "SELECT name, value FROM workspace_build_parameters WHERE workspace_build_id = @Id",
            new { previous.Id }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDictionary(row => row.Name, row => row.Value, StringComparer.Ordinal);
        var parameters = await WorkspaceBuilds.LoadParametersAsync(connection, null, versionId, cancellationToken).ConfigureAwait(false);
        var values = WorkspaceBuilds.ResolveParameters(parameters, request.RichParameterValues, previousValues);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var (_, job) = await WorkspaceBuilds.InsertAsync(
            connection, transaction, queue.Ledger, new WorkspaceBuilds.Plan(workspace, versionId, transition, values), caller, cancellationToken).ConfigureAwait(false);
        // In the same transaction: the job is in its queue exactly when the request's rows exist.
        await queue.PublishAsync(connection, transaction, job, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        var build = await LoadBuildsAsync(connection, workspace, null, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{workspace.Name}/builds/{build[0].BuildNumber}", build[0]);
    }

    private static async Task<IResult> ListBuildsAsync(string name, string? owner, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(await LoadBuildsAsync(connection, workspace, null, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<IResult> GetBuildAsync(string name, int number, string? owner, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var builds = await LoadBuildsAsync(connection, workspace, number, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false);
        return builds.Count == 1 ? TypedResults.Ok(builds[0]) : throw ApiProblemException.NotFound($"Workspace '{name}' has no build #{number}.");
    }

    private static async Task<IResult> GetStateAsync(string name, int number, string? owner, ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // RequireAsync already limits members to their own workspaces; template admins and admins may read any state.
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        var build = await connection.QuerySingleOrDefaultAsync<(Guid Id, byte[]? State)>(new CommandDefinition(
            "SELECT id, provisioner_state FROM workspace_builds WHERE workspace_id = @Id AND build_number = @Number",
            new { workspace.Id, Number = number }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (build.Id == Guid.Empty)
        {
            throw ApiProblemException.NotFound($"Workspace '{name}' has no build #{number}.");
        }

        return build.State is { Length: > 0 } state ? TypedResults.File(state, "application/json") : TypedResults.NoContent();
    }

    /// <summary>Records a new build with the given state without running Terraform (for repairs and imports); template admins and admins only.</summary>
    private static async Task<IResult> PutStateAsync(
        string name, string? owner, HttpContext http, ApiUser caller, NpgsqlDataSource dataSource, ProvisionerJobQueue queue,
        IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var workspace = await RequireAsync(connection, caller, name, owner, cancellationToken).ConfigureAwait(false);
        caller.Require(ApiRoles.TemplateAdmin);
        var maxBytes = options.Value.MaxUploadBytes;
        if (http.Request.ContentLength > maxBytes)
        {
            throw new ApiProblemException(StatusCodes.Status413PayloadTooLarge, "State too large", $"The state is larger than the limit of {maxBytes} bytes (--max-upload-size).", "state");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes + 1;
        }

        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
        if (body.Length > maxBytes)
        {
            throw new ApiProblemException(StatusCodes.Status413PayloadTooLarge, "State too large", $"The state is larger than the limit of {maxBytes} bytes (--max-upload-size).", "state");
        }

        var state = body.ToArray();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var latestNumber = await WorkspaceBuilds.RecordStateAsync(connection, transaction, workspace, state, caller, "state_override", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        var builds = await LoadBuildsAsync(connection, workspace, latestNumber, options.Value.JobHangTimeout, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/workspaces/{workspace.Name}/builds/{latestNumber}", builds[0]);
    }

    /// <summary>The workspace named <paramref name="name"/> of <paramref name="owner"/> (default: the caller), if the caller may see it; 404 otherwise.</summary>
    internal static async Task<WorkspaceRecord> RequireAsync(NpgsqlConnection connection, ApiUser caller, string name, string? owner, CancellationToken cancellationToken)
    {
        var ownerName = string.IsNullOrWhiteSpace(owner) ? caller.Username : owner.Trim();
        var row = await connection.QuerySingleOrDefaultAsync<(Guid Id, string, Guid, string, string, Guid, string, DateTime)>(new CommandDefinition(
            $"{SelectWorkspace} WHERE NOT w.deleted AND lower(w.name) = lower(@Name) AND lower(u.username) = lower(@Owner)",
            new { Name = name, Owner = ownerName }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.Id == Guid.Empty || (row.Item3 != caller.Id && !caller.IsTemplateAdmin))
        {
            throw ApiProblemException.NotFound($"Workspace '{name}' does not exist.");
        }

        return ToRecord(row);
    }

    /// <summary>Builds change a workspace: its owner and admins may; a template admin may read others' workspaces but not build them.</summary>
    private static void RequireChange(ApiUser caller, WorkspaceRecord workspace)
    {
        if (workspace.OwnerId != caller.Id && !caller.IsAdmin)
        {
            throw ApiProblemException.Forbidden($"Only '{workspace.OwnerName}' or an admin can build workspace '{workspace.Name}'.");
        }
    }

    private static async Task<WorkspaceResponse> ToResponseAsync(NpgsqlConnection connection, WorkspaceRecord workspace, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        var builds = await LoadBuildsAsync(connection, workspace, null, offlineAfter, cancellationToken, limit: 1).ConfigureAwait(false);
        var latest = builds[0];
        var resources = await WorkspaceResources.LoadAsync(connection, latest.Job.Id, cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        var orphans = await WorkspaceStates.CountOpenOrphansAsync(connection, workspace.Id, cancellationToken).ConfigureAwait(false);
        if (orphans > 0)
        {
            warnings.Add($"{orphans} Terraform state(s) arrived after their build had ended and a newer build existed; they are kept as orphaned states. "
                + $"Check them with `provisioning state orphans {workspace.Name}` and restore the right one, or resources may exist that this workspace's state does not name.");
        }

        return new WorkspaceResponse(workspace.Id, workspace.Name, workspace.OwnerId, workspace.OwnerName, workspace.TemplateId, workspace.TemplateName, workspace.CreatedAt, latest, resources, warnings);
    }

    internal static async Task<IReadOnlyList<BuildResponse>> LoadBuildsAsync(
        NpgsqlConnection connection, WorkspaceRecord workspace, int? number, TimeSpan offlineAfter, CancellationToken cancellationToken, int limit = 1000)
    {
        var rows = (await connection.QueryAsync<(Guid Id, int Number, string Transition, Guid VersionId, string VersionName, Guid? InitiatorId, string Reason, bool HasState, DateTime CreatedAt, Guid JobId)>(new CommandDefinition(
            """
            SELECT b.id, b.build_number, b.transition, b.template_version_id, v.name, b.initiator_id, b.reason,
                   coalesce(octet_length(b.provisioner_state), 0) > 0, b.created_at, b.job_id
            FROM workspace_builds b JOIN template_versions v ON v.id = b.template_version_id
            WHERE b.workspace_id = @Id AND (@Number::int IS NULL OR b.build_number = @Number)
            ORDER BY b.build_number DESC LIMIT @Limit
            """,
            new { workspace.Id, Number = number, Limit = limit }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var jobs = await JobViews.GetManyAsync(connection, [.. rows.Select(row => row.JobId)], offlineAfter, cancellationToken).ConfigureAwait(false);
        var parameters = (await connection.QueryAsync<(Guid BuildId, string Name, string Value)>(new CommandDefinition(
            "SELECT workspace_build_id, name, value FROM workspace_build_parameters WHERE workspace_build_id = ANY(@Ids) ORDER BY name",
            new { Ids = rows.Select(row => row.Id).ToArray() }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.BuildId);
        return [.. rows.Select(row => new BuildResponse(
            row.Id, workspace.Id, workspace.Name, row.Number, row.Transition, row.VersionId, row.VersionName, row.InitiatorId, row.Reason, row.HasState, row.CreatedAt,
            jobs[row.JobId], [.. parameters[row.Id].Select(parameter => new ParameterValueResponse(parameter.Name, parameter.Value))]))];
    }

    private static WorkspaceRecord ToRecord((Guid Id, string Name, Guid OwnerId, string OwnerName, string OwnerEmail, Guid TemplateId, string TemplateName, DateTime CreatedAt) row) =>
        new(row.Id, row.Name, row.OwnerId, row.OwnerName, row.OwnerEmail, row.TemplateId, row.TemplateName, row.CreatedAt);
}
