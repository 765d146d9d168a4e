using Dapper;

using Npgsql;

using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Templates;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Api.Workspaces;

/// <summary>
/// Creates workspace builds: build n+1 of a workspace, carrying the previous build's state (stored
/// content-addressed, so the daemon downloads it in chunks whatever its size) and parameter values, with a
/// workspace_build job on the queue of the template version's tags. One active build per workspace
/// (invariant 4): the workspace row is locked while checking, and the unique index catches the rest.
/// </summary>
internal static class WorkspaceBuilds
{
    public static readonly string[] Transitions = ["start", "stop", "delete"];

    /// <summary>What a build is made from; <paramref name="Parameters"/> are the final values (validated by the caller).</summary>
    internal sealed record Plan(WorkspaceRecord Workspace, Guid TemplateVersionId, string Transition, IReadOnlyDictionary<string, string> Parameters);

    /// <summary>A version's import job (whose archive, provisioner and tags a build reuses) and its name.</summary>
    internal sealed record VersionSource(Guid Id, string Name, string Provisioner, string Tags, string Queue, string? FileHash, string JobStatus);

    public static async Task<VersionSource> LoadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid versionId, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleAsync<(Guid Id, string Name, string Provisioner, string Tags, string Queue, string? FileHash, string Status)>(new CommandDefinition(
            """
            SELECT v.id, v.name, j.provisioner, j.tags::text, j.queue, j.file_hash, j.status
            FROM template_versions v JOIN provisioner_jobs j ON j.id = v.job_id WHERE v.id = @Id
            """,
            new { Id = versionId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new VersionSource(row.Id, row.Name, row.Provisioner, row.Tags, row.Queue, row.FileHash, row.Status);
    }

    /// <summary>The parameters of a version, by name.</summary>
    public static async Task<IReadOnlyDictionary<string, (string DefaultValue, bool Required, bool Mutable)>> LoadParametersAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid versionId, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(string Name, string DefaultValue, bool Required, bool Mutable)>(new CommandDefinition(
            "SELECT name, default_value, required, mutable FROM template_version_parameters WHERE template_version_id = @Id",
            new { Id = versionId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToDictionary(row => row.Name, row => (row.DefaultValue, row.Required, row.Mutable), StringComparer.Ordinal);
    }

    /// <summary>
    /// Resolves parameter values: given ones override <paramref name="previous"/>, defaults fill the rest; an
    /// unknown name, a changed immutable parameter, or a required one without a value is refused (400).
    /// </summary>
    public static Dictionary<string, string> ResolveParameters(
        IReadOnlyDictionary<string, (string DefaultValue, bool Required, bool Mutable)> parameters,
        IReadOnlyList<NameValue>? given,
        IReadOnlyDictionary<string, string>? previous)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in given ?? [])
        {
            var name = value.Name ?? string.Empty;
            if (!parameters.TryGetValue(name, out var parameter))
            {
                throw ApiProblemException.Invalid($"rich_parameter_values.{name}", $"The template version has no parameter '{name}'; it has: {string.Join(", ", parameters.Keys.Order(StringComparer.Ordinal))}.");
            }

            if (!values.TryAdd(name, value.Value ?? string.Empty))
            {
                throw ApiProblemException.Invalid($"rich_parameter_values.{name}", $"Parameter '{name}' is given twice.");
            }

            if (previous is not null && !parameter.Mutable && previous.TryGetValue(name, out var old) && old != values[name])
            {
                throw ApiProblemException.Invalid($"rich_parameter_values.{name}", $"Parameter '{name}' is immutable: it keeps the value '{old}' chosen when the workspace was created.");
            }
        }

        foreach (var (name, parameter) in parameters)
        {
            if (values.ContainsKey(name))
            {
                continue;
            }

            if (previous is not null && previous.TryGetValue(name, out var old))
            {
                values[name] = old;
            }
            else if (parameter.Required)
            {
                throw ApiProblemException.Invalid($"rich_parameter_values.{name}", $"Parameter '{name}' is required and has no default: pass a value for it.");
            }
            else
            {
                values[name] = parameter.DefaultValue;
            }
        }

        return values;
    }

    /// <summary>The number and state of the workspace's latest build, and whether a build is active; locks the workspace row until the transaction ends.</summary>
    public static async Task<(int LatestNumber, byte[]? State, string? ActiveStatus, int ActiveNumber)> LockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT 1 FROM workspaces WHERE id = @Id FOR UPDATE", new { Id = workspaceId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var latest = await connection.QuerySingleOrDefaultAsync<(int Number, byte[]? State)>(new CommandDefinition(
            "SELECT build_number, provisioner_state FROM workspace_builds WHERE workspace_id = @Id ORDER BY build_number DESC LIMIT 1",
            new { Id = workspaceId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var active = await connection.QuerySingleOrDefaultAsync<(int Number, string Status)>(new CommandDefinition(
            "SELECT b.build_number, j.status FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.workspace_id = @Id AND b.active",
            new { Id = workspaceId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return (latest.Number, latest.State, active.Status, active.Number);
    }

    public static ApiProblemException ActiveBuildConflict(string workspaceName, int number, string status) => ApiProblemException.Conflict(
        $"Workspace '{workspaceName}' already has an active build (#{number}, {status}): wait for it to end or cancel its job, then try again.");

    /// <summary>Inserts build n+1 and its job in the caller's transaction; returns the job to publish after the commit.</summary>
    public static async Task<(Guid BuildId, ProvisionerJob Job)> InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ProvisionerJobLedger ledger, Plan plan, ApiUser caller, CancellationToken cancellationToken)
    {
        var (latestNumber, state, activeStatus, activeNumber) = await LockAsync(connection, transaction, plan.Workspace.Id, cancellationToken).ConfigureAwait(false);
        if (activeStatus is not null)
        {
            throw ActiveBuildConflict(plan.Workspace.Name, activeNumber, activeStatus);
        }

        var version = await LoadVersionAsync(connection, transaction, plan.TemplateVersionId, cancellationToken).ConfigureAwait(false);
        var buildId = Guid.CreateVersion7();
        var buildNumber = latestNumber + 1;
        var build = new AcquiredJob.Types.WorkspaceBuild
        {
            WorkspaceBuildId = buildId.ToString(),
            WorkspaceName = plan.Workspace.Name,
            Metadata = new Sdk.Protocol.Metadata
            {
                WorkspaceTransition = plan.Transition switch
                {
                    "stop" => WorkspaceTransition.Stop,
                    "delete" => WorkspaceTransition.Destroy,
                    _ => WorkspaceTransition.Start,
                },
                WorkspaceName = plan.Workspace.Name,
                WorkspaceId = plan.Workspace.Id.ToString(),
                WorkspaceOwner = plan.Workspace.OwnerName,
                WorkspaceOwnerName = plan.Workspace.OwnerName,
                WorkspaceOwnerId = plan.Workspace.OwnerId.ToString(),
                WorkspaceOwnerEmail = plan.Workspace.OwnerEmail,
                TemplateId = plan.Workspace.TemplateId.ToString(),
                TemplateName = plan.Workspace.TemplateName,
                TemplateVersion = version.Name,
                WorkspaceBuildId = buildId.ToString(),
                WorkspaceBuildNumber = buildNumber,
            },
        };
        build.RichParameterValues.AddRange(plan.Parameters.Select(pair => new RichParameterValue { Name = pair.Key, Value = pair.Value }));
        var variables = await connection.QueryAsync<(string Name, string Value, bool Sensitive)>(new CommandDefinition(
            "SELECT name, value, sensitive FROM template_version_variables WHERE template_version_id = @Id AND value IS NOT NULL ORDER BY name",
            new { Id = version.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        build.VariableValues.AddRange(variables.Select(variable => new VariableValue { Name = variable.Name, Value = variable.Value, Sensitive = variable.Sensitive }));
        if (state is { Length: > 0 })
        {
            var hash = await FileStore.StoreBytesAsync(connection, transaction, state, "application/json", caller.Id, cancellationToken).ConfigureAwait(false);
            build.State = new Blob { File = new FileReference { Id = hash, Sha256 = hash, Size = state.Length } };
        }

        var job = await ledger.InsertAsync(
            connection,
            transaction,
            new NewProvisionerJob(
                ProvisionerJobType.WorkspaceBuild, version.Provisioner, ProvisionerTags.FromJson(version.Tags),
                ProvisionerJobInputs.ToInput(new AcquiredJob { WorkspaceBuild = build }), version.FileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        // Invariant 3: the build starts with its predecessor's state; only a state its daemon reports replaces it
        // (WorkspaceStates), so a build that ends without a report (canceled while pending, reaped, its key revoked)
        // leaves the workspace exactly as it was.
        await InsertBuildRowAsync(connection, transaction, buildId, plan, buildNumber, caller.Id, job.Id, state: state, active: true, reason: "initiator", cancellationToken).ConfigureAwait(false);
        return (buildId, job);
    }

    public static async Task InsertBuildRowAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid buildId, Plan plan, int buildNumber, Guid initiatorId, Guid jobId, byte[]? state, bool active, string reason, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO workspace_builds (id, workspace_id, template_version_id, build_number, transition, initiator_id, job_id, provisioner_state, active, reason)
            VALUES (@Id, @WorkspaceId, @VersionId, @Number, @Transition, @InitiatorId, @JobId, @State, @Active, @Reason)
            """,
            new
            {
                Id = buildId,
                WorkspaceId = plan.Workspace.Id,
                VersionId = plan.TemplateVersionId,
                Number = buildNumber,
                plan.Transition,
                InitiatorId = initiatorId,
                JobId = jobId,
                State = state,
                Active = active,
                Reason = reason,
            },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO workspace_build_parameters (workspace_build_id, name, value) SELECT @Id, name, value FROM unnest(@Names::text[], @Values::text[]) AS p(name, value)",
            new { Id = buildId, Names = plan.Parameters.Keys.ToArray(), Values = plan.Parameters.Values.ToArray() },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Records <paramref name="state"/> as a new build of the workspace without running Terraform (a repaired state, or
    /// a restored orphan): its job is born ended, so the ledger still says who changed the state and when. Refused
    /// while a build is active. Returns the new build's number. The caller commits.
    /// </summary>
    public static async Task<int> RecordStateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, WorkspaceRecord workspace, byte[] state, ApiUser caller, string reason, CancellationToken cancellationToken)
    {
        var (latestNumber, _, activeStatus, activeNumber) = await LockAsync(connection, transaction, workspace.Id, cancellationToken).ConfigureAwait(false);
        if (activeStatus is not null)
        {
            throw ActiveBuildConflict(workspace.Name, activeNumber, activeStatus);
        }

        var previous = await connection.QuerySingleAsync<(Guid Id, Guid VersionId, string Transition)>(new CommandDefinition(
            "SELECT id, template_version_id, transition FROM workspace_builds WHERE workspace_id = @Id AND build_number = @Number",
            new { workspace.Id, Number = latestNumber }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var values = (await connection.QueryAsync<(string Name, string Value)>(new CommandDefinition(
            "SELECT name, value FROM workspace_build_parameters WHERE workspace_build_id = @Id",
            new { previous.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDictionary(row => row.Name, row => row.Value, StringComparer.Ordinal);
        var version = await LoadVersionAsync(connection, transaction, previous.VersionId, cancellationToken).ConfigureAwait(false);
        var job = await ProvisionerJobLedger.InsertEndedAsync(
            connection, transaction,
            new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, version.Provisioner, ProvisionerTags.FromJson(version.Tags), "{}", version.FileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        var plan = new Plan(workspace, previous.VersionId, previous.Transition, values);
        var buildId = Guid.CreateVersion7();
        await InsertBuildRowAsync(connection, transaction, buildId, plan, latestNumber + 1, caller.Id, job.Id, state, active: false, reason, cancellationToken).ConfigureAwait(false);
        return latestNumber + 1;
    }
}
