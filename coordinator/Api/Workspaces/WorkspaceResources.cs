using System.Text.Json;

using Dapper;

using Google.Protobuf;

using Npgsql;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>Reads the resources a job produced, with their metadata (sensitive values hidden), agents, apps, scripts and devcontainers.</summary>
internal static class WorkspaceResources
{
    // Rows written by an older coordinator hold fewer fields, never unknown ones; a newer writer's extra fields are skipped.
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static async Task<IReadOnlyList<ResourceResponse>> LoadAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellationToken)
    {
        var resources = (await connection.QueryAsync<(Guid Id, string Transition, string Type, string Name, bool Hide, string Icon, string InstanceType, int DailyCost, string ModulePath)>(new CommandDefinition(
            "SELECT id, transition, type, name, hide, icon, instance_type, daily_cost, module_path FROM workspace_resources WHERE job_id = @JobId ORDER BY created_at, type, name",
            new { JobId = jobId }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        if (resources.Count == 0)
        {
            return [];
        }

        var ids = resources.Select(resource => resource.Id).ToArray();
        var metadata = (await connection.QueryAsync<(Guid ResourceId, string Key, string? Value, bool Sensitive)>(new CommandDefinition(
            "SELECT workspace_resource_id, key, value, sensitive FROM workspace_resource_metadata WHERE workspace_resource_id = ANY(@Ids) ORDER BY id",
            new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.ResourceId);
        var agents = (await connection.QueryAsync<(Guid Id, Guid ResourceId, string Name, string OperatingSystem, string Architecture, string Directory, string Scripts)>(new CommandDefinition(
            "SELECT id, resource_id, name, operating_system, architecture, directory, scripts::text FROM workspace_agents WHERE resource_id = ANY(@Ids) ORDER BY display_order, name",
            new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var agentIds = agents.Select(agent => agent.Id).ToArray();
        var apps = (await connection.QueryAsync<(Guid AgentId, string Slug, string DisplayName, string Icon, string? Command, string? Url, bool External, bool Subdomain, string SharingLevel, bool Hidden)>(new CommandDefinition(
            "SELECT agent_id, slug, display_name, icon, command, url, external, subdomain, sharing_level, hidden FROM workspace_apps WHERE agent_id = ANY(@Ids) ORDER BY display_order, slug",
            new { Ids = agentIds }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.AgentId);
        var devcontainers = (await connection.QueryAsync<(Guid AgentId, string Name, string WorkspaceFolder, string ConfigPath, string SubagentId, string Apps, string Scripts, string Envs)>(new CommandDefinition(
            """
            SELECT agent_id, name, workspace_folder, config_path, subagent_id, apps::text, scripts::text, envs::text
            FROM workspace_agent_devcontainers WHERE agent_id = ANY(@Ids) ORDER BY display_order
            """,
            new { Ids = agentIds }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.AgentId);
        var agentsByResource = agents.ToLookup(agent => agent.ResourceId);
        return [.. resources.Select(resource => new ResourceResponse(
            resource.Id, resource.Transition, resource.Type, resource.Name, resource.Hide, resource.Icon, resource.InstanceType, resource.DailyCost, resource.ModulePath,
            [.. metadata[resource.Id].Select(item => new ResourceMetadataResponse(item.Key, item.Sensitive ? null : item.Value, item.Sensitive))],
            [.. agentsByResource[resource.Id].Select(agent => new AgentResponse(
                agent.Id, agent.Name, agent.OperatingSystem, agent.Architecture, agent.Directory,
                [.. apps[agent.Id].Select(app => new AppResponse(app.Slug, app.DisplayName, app.Icon, app.Command, app.Url, app.External, app.Subdomain, app.SharingLevel, app.Hidden))],
                [.. ParseArray<Script>(agent.Scripts).Select(ToResponse)],
                [.. devcontainers[agent.Id].Select(devcontainer => new DevcontainerResponse(
                    devcontainer.Name, devcontainer.WorkspaceFolder, devcontainer.ConfigPath, devcontainer.SubagentId,
                    [.. ParseArray<App>(devcontainer.Apps).Select(ToResponse)],
                    [.. ParseArray<Script>(devcontainer.Scripts).Select(ToResponse)],
                    [.. ParseArray<Env>(devcontainer.Envs).Select(env => new DevcontainerEnvResponse(env.Name, env.MergeStrategy is { Length: > 0 } strategy ? strategy : "replace"))]))]))]))];
    }

    /// <summary>A jsonb array written by JobResultWriter: messages in the protocol's JSON form, read back as messages.</summary>
    private static IEnumerable<T> ParseArray<T>(string json)
        where T : IMessage<T>, new()
    {
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(element => Parser.Parse<T>(element.GetRawText()))];
    }

    private static ScriptResponse ToResponse(Script script) => new(
        script.DisplayName, script.ResourceAddress, script.RunOnStart, script.RunOnStop, script.Cron, script.StartBlocksLogin, script.TimeoutSeconds,
        [.. script.Dependencies.Select(dependency => new ScriptDependencyResponse(
            dependency.PrerequisiteResourceAddress,
            dependency.Requirement == ScriptDependencyRequirement.Completion ? "completion" : "success"))]);

    // Same mapping as the workspace_apps rows: empty command and url are absent, the sharing level in lower case.
    private static AppResponse ToResponse(App app) => new(
        app.Slug, app.DisplayName, app.Icon, app.Command.Length > 0 ? app.Command : null, app.Url.Length > 0 ? app.Url : null,
        app.External, app.Subdomain, app.SharingLevel.ToString().ToLowerInvariant(), app.Hidden);
}
