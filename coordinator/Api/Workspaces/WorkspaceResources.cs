using Dapper;

using Npgsql;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>Reads the resources a job produced, with their metadata (sensitive values hidden), agents and apps.</summary>
internal static class WorkspaceResources
{
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
        var agents = (await connection.QueryAsync<(Guid Id, Guid ResourceId, string Name, string OperatingSystem, string Architecture, string Directory)>(new CommandDefinition(
            "SELECT id, resource_id, name, operating_system, architecture, directory FROM workspace_agents WHERE resource_id = ANY(@Ids) ORDER BY display_order, name",
            new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var apps = (await connection.QueryAsync<(Guid AgentId, string Slug, string DisplayName, string Icon, string? Command, string? Url, bool External, bool Subdomain, string SharingLevel, bool Hidden)>(new CommandDefinition(
            "SELECT agent_id, slug, display_name, icon, command, url, external, subdomain, sharing_level, hidden FROM workspace_apps WHERE agent_id = ANY(@Ids) ORDER BY display_order, slug",
            new { Ids = agents.Select(agent => agent.Id).ToArray() }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.AgentId);
        var agentsByResource = agents.ToLookup(agent => agent.ResourceId);
        return [.. resources.Select(resource => new ResourceResponse(
            resource.Id, resource.Transition, resource.Type, resource.Name, resource.Hide, resource.Icon, resource.InstanceType, resource.DailyCost, resource.ModulePath,
            [.. metadata[resource.Id].Select(item => new ResourceMetadataResponse(item.Key, item.Sensitive ? null : item.Value, item.Sensitive))],
            [.. agentsByResource[resource.Id].Select(agent => new AgentResponse(
                agent.Id, agent.Name, agent.OperatingSystem, agent.Architecture, agent.Directory,
                [.. apps[agent.Id].Select(app => new AppResponse(app.Slug, app.DisplayName, app.Icon, app.Command, app.Url, app.External, app.Subdomain, app.SharingLevel, app.Hidden))]))]))];
    }
}
