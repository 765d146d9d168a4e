using System.Text.Json;

using Dapper;

using Google.Protobuf;

using Npgsql;

using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Daemons;

/// <summary>Stores what a terminal report carries (state, resources, parameters, timings), inside the transaction that ends the job.</summary>
internal static class JobResultWriter
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    /// <summary>
    /// Stores the resources, parameters and timings a CompletedJob carries. The state is not written here: it
    /// goes through <see cref="Workspaces.WorkspaceStates"/>, the one writer of build states.
    /// </summary>
    public static async Task WriteCompletedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, CompletedJob completed, CancellationToken cancellationToken)
    {
        switch (completed.TypeCase)
        {
            case CompletedJob.TypeOneofCase.WorkspaceBuild:
                var build = completed.WorkspaceBuild;
                var transition = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                    "SELECT transition FROM workspace_builds WHERE job_id = @JobId", new { JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await InsertResourcesAsync(connection, transaction, jobId, transition ?? "start", build.Resources, cancellationToken).ConfigureAwait(false);
                await InsertTimingsAsync(connection, transaction, jobId, build.Timings, cancellationToken).ConfigureAwait(false);
                break;
            case CompletedJob.TypeOneofCase.TemplateImport:
                var import = completed.TemplateImport;
                await InsertResourcesAsync(connection, transaction, jobId, "start", import.StartResources, cancellationToken).ConfigureAwait(false);
                await InsertResourcesAsync(connection, transaction, jobId, "stop", import.StopResources, cancellationToken).ConfigureAwait(false);
                await InsertParametersAsync(connection, transaction, jobId, import.RichParameters, cancellationToken).ConfigureAwait(false);
                await InsertPresetsAsync(connection, transaction, jobId, import.Presets, cancellationToken).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE template_versions SET has_external_agents = @HasExternalAgents WHERE job_id = @JobId",
                    new { import.HasExternalAgents, JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await InsertTimingsAsync(connection, transaction, jobId, import.Timings, cancellationToken).ConfigureAwait(false);
                break;
            case CompletedJob.TypeOneofCase.TemplateDryRun:
                await InsertResourcesAsync(connection, transaction, jobId, "start", completed.TemplateDryRun.Resources, cancellationToken).ConfigureAwait(false);
                break;
            default:
                break;
        }
    }

    /// <summary>Stores the timings a FailedJob carries (its partial state goes through <see cref="Workspaces.WorkspaceStates"/>).</summary>
    public static async Task WriteFailedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, FailedJob failed, CancellationToken cancellationToken)
    {
        if (failed.TypeCase == FailedJob.TypeOneofCase.WorkspaceBuild)
        {
            await InsertTimingsAsync(connection, transaction, jobId, failed.WorkspaceBuild.Timings, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether resources were stored for the job already (a late report must not store them twice).</summary>
    public static Task<bool> HasResourcesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM workspace_resources WHERE job_id = @JobId)", new { JobId = jobId }, transaction, cancellationToken: cancellationToken));

    private static async Task InsertResourcesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, string transition, IEnumerable<Resource> resources, CancellationToken cancellationToken)
    {
        foreach (var resource in resources)
        {
            var resourceId = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
                """
                INSERT INTO workspace_resources (job_id, transition, type, name, hide, icon, instance_type, daily_cost, module_path)
                VALUES (@JobId, @Transition, @Type, @Name, @Hide, @Icon, @InstanceType, @DailyCost, @ModulePath)
                RETURNING id
                """,
                new { JobId = jobId, Transition = transition, resource.Type, resource.Name, resource.Hide, resource.Icon, resource.InstanceType, resource.DailyCost, resource.ModulePath },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);

            foreach (var item in resource.Metadata)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO workspace_resource_metadata (workspace_resource_id, key, value, sensitive) VALUES (@ResourceId, @Key, @Value, @Sensitive)
                    ON CONFLICT (workspace_resource_id, key) DO UPDATE SET value = EXCLUDED.value, sensitive = EXCLUDED.sensitive
                    """,
                    new { ResourceId = resourceId, item.Key, Value = item.IsNull ? null : item.Value, item.Sensitive },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            foreach (var agent in resource.Agents)
            {
                var agentId = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
                    """
                    INSERT INTO workspace_agents (resource_id, name, auth_token, auth_instance_id, architecture, operating_system, directory,
                        environment_variables, connection_timeout_seconds, troubleshooting_url, motd_file, display_apps, scripts, metadata, display_order)
                    VALUES (@ResourceId, @Name, coalesce(@Token, gen_random_uuid()), @InstanceId, @Architecture, @OperatingSystem, @Directory,
                        @Env::jsonb, @ConnectionTimeoutSeconds, @TroubleshootingUrl, @MotdFile, @DisplayApps::jsonb, @Scripts::jsonb, @Metadata::jsonb, @Order)
                    RETURNING id
                    """,
                    new
                    {
                        ResourceId = resourceId,
                        agent.Name,
                        Token = Guid.TryParse(agent.Token, out var token) ? token : (Guid?)null,
                        InstanceId = agent.AuthCase == Agent.AuthOneofCase.InstanceId ? agent.InstanceId : null,
                        agent.Architecture,
                        agent.OperatingSystem,
                        agent.Directory,
                        Env = JsonSerializer.Serialize(agent.Env.ToDictionary(pair => pair.Key, pair => pair.Value)),
                        agent.ConnectionTimeoutSeconds,
                        agent.TroubleshootingUrl,
                        agent.MotdFile,
                        DisplayApps = agent.DisplayApps is null ? "{}" : Formatter.Format(agent.DisplayApps),
                        Scripts = FormatArray(agent.Scripts),
                        Metadata = FormatArray(agent.Metadata),
                        Order = (int)agent.Order,
                    },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);

                foreach (var app in agent.Apps)
                {
                    await connection.ExecuteAsync(new CommandDefinition(
                        """
                        INSERT INTO workspace_apps (agent_id, slug, display_name, icon, command, url, external, subdomain, sharing_level,
                            healthcheck_url, healthcheck_interval, healthcheck_threshold, open_in, hidden, display_order, display_group)
                        VALUES (@AgentId, @Slug, @DisplayName, @Icon, @Command, @Url, @External, @Subdomain, @SharingLevel,
                            @HealthcheckUrl, @HealthcheckInterval, @HealthcheckThreshold, @OpenIn, @Hidden, @Order, @Group)
                        """,
                        new
                        {
                            AgentId = agentId,
                            app.Slug,
                            app.DisplayName,
                            app.Icon,
                            Command = app.Command.Length > 0 ? app.Command : null,
                            Url = app.Url.Length > 0 ? app.Url : null,
                            app.External,
                            app.Subdomain,
                            SharingLevel = app.SharingLevel.ToString().ToLowerInvariant(),
                            HealthcheckUrl = app.Healthcheck?.Url ?? string.Empty,
                            HealthcheckInterval = app.Healthcheck?.Interval ?? 0,
                            HealthcheckThreshold = app.Healthcheck?.Threshold ?? 0,
                            OpenIn = app.OpenIn == AppOpenIn.Tab ? "tab" : "slim-window",
                            app.Hidden,
                            Order = (int)app.Order,
                            app.Group,
                        },
                        transaction,
                        cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                for (var index = 0; index < agent.Devcontainers.Count; index++)
                {
                    var devcontainer = agent.Devcontainers[index];
                    await connection.ExecuteAsync(new CommandDefinition(
                        """
                        INSERT INTO workspace_agent_devcontainers (agent_id, name, workspace_folder, config_path, terraform_resource_id, subagent_id,
                            apps, scripts, envs, display_order)
                        VALUES (@AgentId, @Name, @WorkspaceFolder, @ConfigPath, @Id, @SubagentId, @Apps::jsonb, @Scripts::jsonb, @Envs::jsonb, @Order)
                        """,
                        new
                        {
                            AgentId = agentId,
                            devcontainer.Name,
                            devcontainer.WorkspaceFolder,
                            devcontainer.ConfigPath,
                            devcontainer.Id,
                            devcontainer.SubagentId,
                            Apps = FormatArray(devcontainer.Apps),
                            Scripts = FormatArray(devcontainer.Scripts),
                            Envs = FormatArray(devcontainer.Envs),
                            Order = index,
                        },
                        transaction,
                        cancellationToken: cancellationToken)).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Messages as one JSON array in the protocol's JSON form (what the jsonb columns of agents hold).</summary>
    private static string FormatArray<T>(IEnumerable<T> messages)
        where T : IMessage => "[" + string.Join(',', messages.Select(message => Formatter.Format(message))) + "]";

    private static async Task InsertParametersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, IEnumerable<RichParameter> parameters, CancellationToken cancellationToken)
    {
        var versionId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT id FROM template_versions WHERE job_id = @JobId", new { JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (versionId is null)
        {
            return;
        }

        foreach (var parameter in parameters)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO template_version_parameters (template_version_id, name, display_name, description, type, form_type, mutable, default_value, icon,
                    options, validation_regex, validation_min, validation_max, validation_error, validation_monotonic, required, ephemeral, display_order)
                VALUES (@VersionId, @Name, @DisplayName, @Description, @Type, @FormType, @Mutable, @DefaultValue, @Icon,
                    @Options::jsonb, @ValidationRegex, @ValidationMin, @ValidationMax, @ValidationError, @ValidationMonotonic, @Required, @Ephemeral, @Order)
                ON CONFLICT (template_version_id, name) DO NOTHING
                """,
                new
                {
                    VersionId = versionId,
                    parameter.Name,
                    parameter.DisplayName,
                    parameter.Description,
                    parameter.Type,
                    FormType = parameter.FormType.ToString().ToLowerInvariant(),
                    parameter.Mutable,
                    parameter.DefaultValue,
                    parameter.Icon,
                    Options = "[" + string.Join(',', parameter.Options.Select(message => Formatter.Format(message))) + "]",
                    parameter.ValidationRegex,
                    ValidationMin = parameter.HasValidationMin ? parameter.ValidationMin : (int?)null,
                    ValidationMax = parameter.HasValidationMax ? parameter.ValidationMax : (int?)null,
                    parameter.ValidationError,
                    parameter.ValidationMonotonic,
                    parameter.Required,
                    parameter.Ephemeral,
                    parameter.Order,
                },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stores the version's presets with their values. A value for a parameter the version does not declare is kept here and
    /// ignored when a build applies the preset (WorkspaceParameters resolves only the version's parameters), as in Coder.
    /// </summary>
    private static async Task InsertPresetsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, IEnumerable<Preset> presets, CancellationToken cancellationToken)
    {
        var versionId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT id FROM template_versions WHERE job_id = @JobId", new { JobId = jobId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (versionId is null)
        {
            return;
        }

        foreach (var preset in presets)
        {
            // A second report for the same import must not duplicate presets: the first one's stay.
            var presetId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
                """
                INSERT INTO template_version_presets (template_version_id, name, is_default, prebuild_instances, description, icon,
                    prebuild_ttl_seconds, prebuild_timezone, prebuild_schedules)
                VALUES (@VersionId, @Name, @Default, @Instances, @Description, @Icon, @Ttl, @Timezone, @Schedules::jsonb)
                ON CONFLICT (template_version_id, name) DO NOTHING
                RETURNING id
                """,
                new
                {
                    VersionId = versionId,
                    preset.Name,
                    preset.Default,
                    Instances = preset.Prebuild is { } prebuild ? prebuild.Instances : (int?)null,
                    preset.Description,
                    preset.Icon,
                    Ttl = preset.Prebuild?.ExpirationPolicy?.Ttl,
                    Timezone = preset.Prebuild?.Scheduling?.Timezone,
                    Schedules = JsonSerializer.Serialize(preset.Prebuild?.Scheduling?.Schedule.Select(schedule => new { cron = schedule.Cron, instances = schedule.Instances }).ToArray() ?? []),
                },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (presetId is null)
            {
                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO template_version_preset_parameters (preset_id, name, value)
                SELECT @PresetId, name, value FROM unnest(@Names::text[], @Values::text[]) AS p(name, value)
                ON CONFLICT (preset_id, name) DO UPDATE SET value = EXCLUDED.value
                """,
                new { PresetId = presetId, Names = preset.Parameters.Select(item => item.Name).ToArray(), Values = preset.Parameters.Select(item => item.Value).ToArray() },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    private static async Task InsertTimingsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, IEnumerable<Timing> timings, CancellationToken cancellationToken)
    {
        foreach (var timing in timings)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO provisioner_job_timings (job_id, started_at, ended_at, stage, source, action, resource, state)
                VALUES (@JobId, @Start, @End, @Stage, @Source, @Action, @Resource, @State)
                """,
                new
                {
                    JobId = jobId,
                    Start = (timing.Start ?? timing.End)?.ToDateTime() ?? DateTime.UtcNow,
                    End = (timing.End ?? timing.Start)?.ToDateTime() ?? DateTime.UtcNow,
                    timing.Stage,
                    timing.Source,
                    timing.Action,
                    timing.Resource,
                    State = timing.State.ToString().ToLowerInvariant(),
                },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }
}
