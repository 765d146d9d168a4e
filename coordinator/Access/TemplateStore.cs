using System.Text.Json;

using Dapper;

using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Templates;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Workspaces;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// Templates and their versions, for a caller: everyone signed in reads them (a member needs them to create
/// workspaces); pushing and activating versions needs the template-admin role (<see cref="AccessPolicy"/>).
/// Pushing a version creates the template when new and a template_version_import job; the version becomes
/// active only when its import succeeded (the database trigger of migration 0004 does it when the job ends).
/// </summary>
internal sealed class TemplateStore(NpgsqlDataSource dataSource, ProvisionerJobQueue queue, IOptions<CoordinatorOptions> options)
{
    private const string DefaultProvisioner = "terraform";

    private const string SelectTemplate =
        """
        SELECT t.id, t.name, t.display_name, t.description, t.provisioner, t.active_version_id, v.name AS active_version_name, t.created_at, t.updated_at
        FROM templates t LEFT JOIN template_versions v ON v.id = t.active_version_id
        """;

    private TimeSpan OfflineAfter => options.Value.JobHangTimeout;

    public async Task<IReadOnlyList<TemplateResponse>> ListAsync(ApiUser caller, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(Guid, string, string, string, string, Guid?, string?, DateTime, DateTime)>(new CommandDefinition(
            $"{SelectTemplate} WHERE NOT t.deleted ORDER BY t.name", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(ToTemplate)];
    }

    public async Task<TemplateResponse> GetAsync(ApiUser caller, string name, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await RequireTemplateAsync(connection, name, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<TemplateResponse> RequireTemplateAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(Guid Id, string, string, string, string, Guid?, string?, DateTime, DateTime)>(new CommandDefinition(
            $"{SelectTemplate} WHERE NOT t.deleted AND lower(t.name) = lower(@Name)", new { Name = name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row.Id == Guid.Empty ? throw ApiProblemException.NotFound($"Template '{name}' does not exist.") : ToTemplate(row);
    }

    public async Task<TemplateVersionResponse> CreateVersionAsync(ApiUser caller, string name, CreateTemplateVersionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        AccessPolicy.RequireRole(caller, ApiRoles.TemplateAdmin);
        if (!ApiNames.IsValid(name))
        {
            throw ApiProblemException.Invalid("name", $"'{name}' is not a valid template name: {ApiNames.Rule}.");
        }

        var versionName = request.Name?.Trim();
        if (versionName is { Length: > 64 } || versionName?.Any(char.IsControl) == true)
        {
            throw ApiProblemException.Invalid("version_name", "A version name has at most 64 characters and no control characters.");
        }

        var fileHash = request.FileHash?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(fileHash))
        {
            throw ApiProblemException.Invalid("file_hash", "Upload the template with POST /api/v1/files and pass the hash it returned.");
        }

        var provisioner = string.IsNullOrWhiteSpace(request.Provisioner) ? DefaultProvisioner : request.Provisioner.Trim();
        IReadOnlyDictionary<string, string> tags;
        try
        {
            tags = ProvisionerTags.Canonicalize(request.ProvisionerTags);
        }
        catch (ArgumentException exception)
        {
            throw ApiProblemException.Invalid("provisioner_tags", exception.Message.Split(" (Parameter", 2)[0]);
        }

        var variables = new List<VariableValue>();
        foreach (var variable in request.UserVariableValues ?? [])
        {
            if (string.IsNullOrWhiteSpace(variable.Name) || variables.Any(existing => existing.Name == variable.Name))
            {
                throw ApiProblemException.Invalid("user_variable_values", $"Each variable needs a name, given once; '{variable.Name}' is empty or repeated.");
            }

            variables.Add(new VariableValue { Name = variable.Name, Value = variable.Value ?? string.Empty });
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var fileExists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM files WHERE hash = @Hash)", new { Hash = fileHash }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!fileExists)
        {
            throw ApiProblemException.Invalid("file_hash", $"No file {fileHash} is stored: upload the template with POST /api/v1/files first.");
        }

        // The import runs where the workspaces of the template's defaults can: the pushed tags over its workspace tags
        // evaluated statically, as Coder routes an import (decision 0016). Refused (400) before anything is written.
        var importTags = await ImportTags.ResolveAsync(connection, provisioner, fileHash, tags, variables, cancellationToken).ConfigureAwait(false);
        await queue.Ledger.EnsureQueueAsync(provisioner, importTags, cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var template = await connection.QuerySingleOrDefaultAsync<(Guid Id, string Provisioner)>(new CommandDefinition(
            "SELECT id, provisioner FROM templates WHERE NOT deleted AND lower(name) = lower(@Name) FOR UPDATE",
            new { Name = name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (template.Id == Guid.Empty)
        {
            template = (await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
                "INSERT INTO templates (name, provisioner, created_by) VALUES (@Name, @Provisioner, @CreatedBy) RETURNING id",
                new { Name = name, Provisioner = provisioner, CreatedBy = caller.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false), provisioner);
        }
        else if (template.Provisioner != provisioner)
        {
            throw ApiProblemException.Invalid("provisioner", $"Template '{name}' uses the '{template.Provisioner}' provisioner; push versions for it, not '{provisioner}'.");
        }

        if (string.IsNullOrEmpty(versionName))
        {
            var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM template_versions WHERE template_id = @TemplateId", new { TemplateId = template.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            versionName = $"v{count + 1}";
        }
        else
        {
            var taken = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM template_versions WHERE template_id = @TemplateId AND lower(name) = lower(@Name))",
                new { TemplateId = template.Id, Name = versionName }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (taken)
            {
                throw ApiProblemException.Conflict($"Template '{name}' already has a version named '{versionName}': choose another name.");
            }
        }

        var versionId = Guid.CreateVersion7();
        var payload = new AcquiredJob
        {
            TemplateImport = new AcquiredJob.Types.TemplateImport
            {
                Metadata = new Sdk.Protocol.Metadata
                {
                    TemplateId = template.Id.ToString(),
                    TemplateName = name,
                    TemplateVersion = versionName,
                    WorkspaceOwner = caller.Username,
                    WorkspaceOwnerId = caller.Id.ToString(),
                    WorkspaceOwnerEmail = caller.Email,
                },
                UserVariableValues = { variables },
            },
        };
        var job = await queue.Ledger.InsertAsync(
            connection,
            transaction,
            new NewProvisionerJob(ProvisionerJobType.TemplateVersionImport, provisioner, importTags, ProvisionerJobInputs.ToInput(payload), fileHash, caller.Id),
            cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO template_versions (id, template_id, name, message, job_id, created_by, activate_on_success)
            VALUES (@Id, @TemplateId, @Name, @Message, @JobId, @CreatedBy, @Activate)
            """,
            new { Id = versionId, TemplateId = template.Id, Name = versionName, Message = request.Message ?? string.Empty, JobId = job.Id, CreatedBy = caller.Id, Activate = request.Activate ?? false },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        // In the same transaction: the job is in its queue exactly when the request's rows exist.
        await queue.PublishAsync(connection, transaction, job, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        return await RequireVersionAsync(connection, name, versionName, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TemplateVersionResponse>> ListVersionsAsync(ApiUser caller, string name, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var template = await RequireTemplateAsync(connection, name, cancellationToken).ConfigureAwait(false);
        return await LoadVersionsAsync(connection, template, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TemplateVersionResponse> GetVersionAsync(ApiUser caller, string name, string version, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await RequireVersionAsync(connection, name, version, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TemplateVersionResponse> ActivateAsync(ApiUser caller, string name, string version, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.TemplateAdmin);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var found = await RequireVersionAsync(connection, name, version, cancellationToken).ConfigureAwait(false);
        if (found.Job.Status != "succeeded")
        {
            throw ApiProblemException.Conflict($"Version '{found.Name}' of template '{name}' cannot be activated: its import is {found.Job.Status}, and only a version whose import succeeded can be.");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE templates SET active_version_id = @VersionId, updated_at = now() WHERE id = @TemplateId",
            new { VersionId = found.Id, found.TemplateId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return await RequireVersionAsync(connection, name, version, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TemplateVersionResponse> RequireVersionAsync(NpgsqlConnection connection, string templateName, string versionName, CancellationToken cancellationToken)
    {
        var template = await RequireTemplateAsync(connection, templateName, cancellationToken).ConfigureAwait(false);
        var versions = await LoadVersionsAsync(connection, template, versionName, cancellationToken).ConfigureAwait(false);
        return versions.Count == 1 ? versions[0] : throw ApiProblemException.NotFound($"Template '{templateName}' has no version '{versionName}'.");
    }

    private async Task<IReadOnlyList<TemplateVersionResponse>> LoadVersionsAsync(
        NpgsqlConnection connection, TemplateResponse template, string? versionName, CancellationToken cancellationToken)
    {
        var rows = (await connection.QueryAsync<(Guid Id, string Name, string Message, string Readme, Guid JobId, bool ActivateOnSuccess, DateTime CreatedAt, string? FileHash, bool HasExternalAgents)>(new CommandDefinition(
            """
            SELECT v.id, v.name, v.message, v.readme, v.job_id, v.activate_on_success, v.created_at, j.file_hash, v.has_external_agents
            FROM template_versions v JOIN provisioner_jobs j ON j.id = v.job_id
            WHERE v.template_id = @TemplateId AND (@Name::text IS NULL OR lower(v.name) = lower(@Name))
            ORDER BY v.created_at DESC
            """,
            new { TemplateId = template.Id, Name = versionName },
            cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var versionIds = rows.Select(row => row.Id).ToArray();
        var jobs = await JobViews.GetManyAsync(connection, [.. rows.Select(row => row.JobId)], OfflineAfter, cancellationToken).ConfigureAwait(false);
        var variables = (await connection.QueryAsync<(Guid VersionId, string Name, string Description, string Type, string Value, string DefaultValue, bool Required, bool Sensitive)>(new CommandDefinition(
            """
            SELECT template_version_id, name, description, type, value, default_value, required, sensitive FROM template_version_variables
            WHERE template_version_id = ANY(@Ids) ORDER BY name
            """,
            new { Ids = versionIds }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.VersionId);
        var parameters = (await connection.QueryAsync<ParameterRow>(new CommandDefinition(
            """
            SELECT template_version_id AS VersionId, name, display_name AS DisplayName, description, type, mutable, default_value AS DefaultValue,
                   required, ephemeral, display_order AS DisplayOrder, form_type AS FormType, options::text AS Options,
                   validation_regex AS ValidationRegex, validation_error AS ValidationError, validation_min AS ValidationMin,
                   validation_max AS ValidationMax, validation_monotonic AS ValidationMonotonic
            FROM template_version_parameters
            WHERE template_version_id = ANY(@Ids) ORDER BY display_order, name
            """,
            new { Ids = versionIds }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToLookup(row => row.VersionId);
        var presets = await LoadPresetsAsync(connection, versionIds, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(row => new TemplateVersionResponse(
            row.Id,
            template.Id,
            template.Name,
            row.Name,
            row.Message,
            row.Readme,
            template.ActiveVersionId == row.Id,
            row.ActivateOnSuccess,
            row.CreatedAt,
            jobs[row.JobId],
            [.. variables[row.Id].Select(variable => new TemplateVariableResponse(
                variable.Name, variable.Description, variable.Type, variable.Sensitive ? null : variable.Value, variable.Sensitive ? string.Empty : variable.DefaultValue, variable.Required, variable.Sensitive))],
            [.. parameters[row.Id].Select(parameter => new TemplateParameterResponse(
                parameter.Name, parameter.DisplayName, parameter.Description, parameter.Type, parameter.Mutable, parameter.DefaultValue, parameter.Required, parameter.Ephemeral,
                parameter.DisplayOrder, parameter.FormType, [.. ParameterOptions.Parse(parameter.Options).Select(option => new ParameterOptionResponse(option.Name, option.Value, option.Description))],
                parameter.ValidationRegex, parameter.ValidationError, parameter.ValidationMin, parameter.ValidationMax, parameter.ValidationMonotonic))],
            presets[row.Id].ToList(),
            row.FileHash,
            row.HasExternalAgents))];
    }

    /// <summary>The presets of a template version (what <c>create --preset</c> can name).</summary>
    public async Task<IReadOnlyList<TemplatePresetResponse>> ListPresetsAsync(ApiUser caller, string name, string version, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return (await RequireVersionAsync(connection, name, version, cancellationToken).ConfigureAwait(false)).Presets ?? [];
    }

    private static async Task<ILookup<Guid, TemplatePresetResponse>> LoadPresetsAsync(NpgsqlConnection connection, Guid[] versionIds, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<PresetRow>(new CommandDefinition(
            """
            SELECT p.template_version_id AS VersionId, p.id AS Id, p.name AS Name, p.is_default AS IsDefault, p.prebuild_instances AS Instances,
                   p.description AS Description, p.icon AS Icon, p.prebuild_ttl_seconds AS TtlSeconds, p.prebuild_timezone AS Timezone,
                   p.prebuild_schedules::text AS Schedules, pp.name AS Parameter, pp.value AS Value
            FROM template_version_presets p LEFT JOIN template_version_preset_parameters pp ON pp.preset_id = p.id
            WHERE p.template_version_id = ANY(@Ids) ORDER BY p.name, pp.name
            """,
            new { Ids = versionIds }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.GroupBy(row => (row.VersionId, row.Id))
            .Select(preset => (preset.Key.VersionId, Preset: ToPreset(preset.First(), [.. preset.Where(row => row.Parameter is not null).Select(row => new NameValue(row.Parameter, row.Value))])))
            .ToLookup(item => item.VersionId, item => item.Preset);
    }

    private static TemplatePresetResponse ToPreset(PresetRow row, IReadOnlyList<NameValue> parameters)
    {
        var schedules = JsonSerializer.Deserialize<List<PrebuildScheduleResponse>>(row.Schedules, ScheduleJson) ?? [];
        var scheduling = row.Timezone is null ? null : new PrebuildSchedulingResponse(row.Timezone, schedules);
        return new TemplatePresetResponse(row.Name, row.IsDefault, row.Instances, parameters, row.Description, row.Icon, row.TtlSeconds, scheduling);
    }

    private static readonly JsonSerializerOptions ScheduleJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>A row of template_version_presets joined with one of its parameters, as <see cref="LoadPresetsAsync"/> selects it.</summary>
    private sealed record PresetRow(
        Guid VersionId, Guid Id, string Name, bool IsDefault, int? Instances, string Description, string Icon, int? TtlSeconds, string? Timezone, string Schedules,
        string? Parameter, string? Value);

    /// <summary>A row of template_version_parameters as <see cref="LoadVersionsAsync"/> selects it.</summary>
    private sealed record ParameterRow(
        Guid VersionId, string Name, string DisplayName, string Description, string Type, bool Mutable, string DefaultValue, bool Required, bool Ephemeral,
        int DisplayOrder, string FormType, string Options, string ValidationRegex, string ValidationError, int? ValidationMin, int? ValidationMax, string ValidationMonotonic);

    private static TemplateResponse ToTemplate((Guid Id, string Name, string DisplayName, string Description, string Provisioner, Guid? ActiveVersionId, string? ActiveVersionName, DateTime CreatedAt, DateTime UpdatedAt) row) =>
        new(row.Id, row.Name, row.DisplayName, row.Description, row.Provisioner, row.ActiveVersionId, row.ActiveVersionName, row.CreatedAt, row.UpdatedAt);
}
