using Dapper;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// What a template version gives every run made from it (a workspace build or a dry run): its import job (archive,
/// provisioner, tags), its parameters, presets, variable values and workspace tag expressions, read in the caller's
/// transaction. Builds and dry runs read them here, so both resolve the same inputs the same way.
/// </summary>
internal static class TemplateVersionInputs
{
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

    public static async Task<IReadOnlyList<WorkspaceParameter>> LoadParametersAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid versionId, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<ParameterRow>(new CommandDefinition(
            """
            SELECT name, display_name AS DisplayName, type, form_type AS FormType, mutable, default_value AS DefaultValue, required, ephemeral,
                   options::text AS options, validation_regex AS ValidationRegex, validation_error AS ValidationError,
                   validation_min AS ValidationMin, validation_max AS ValidationMax, validation_monotonic AS ValidationMonotonic
            FROM template_version_parameters WHERE template_version_id = @Id ORDER BY display_order, name
            """,
            new { Id = versionId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => new WorkspaceParameter(
            row.Name, row.DisplayName, row.Type, row.FormType, row.Mutable, row.DefaultValue, row.Required, row.Ephemeral,
            ParameterOptions.Values(row.Options), row.ValidationRegex, row.ValidationError, row.ValidationMin, row.ValidationMax, row.ValidationMonotonic))];
    }

    /// <summary>The preset named <paramref name="name"/> of the version with its values, null when none is named; 400 naming the version's presets otherwise.</summary>
    public static async Task<(Guid Id, Dictionary<string, string> Values)?> LoadPresetAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid versionId, string? name, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var rows = (await connection.QueryAsync<(Guid Id, string Name, string? Parameter, string? Value)>(new CommandDefinition(
            """
            SELECT p.id, p.name, pp.name, pp.value
            FROM template_version_presets p LEFT JOIN template_version_preset_parameters pp ON pp.preset_id = p.id
            WHERE p.template_version_id = @Id ORDER BY p.name
            """,
            new { Id = versionId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
        var matching = rows.Where(row => string.Equals(row.Name, name.Trim(), StringComparison.Ordinal)).ToList();
        if (matching.Count == 0)
        {
            var names = rows.Select(row => row.Name).Distinct(StringComparer.Ordinal).ToList();
            throw ApiProblemException.Invalid("template_version_preset", names.Count == 0
                ? $"The template version has no presets, so there is no preset '{name}'."
                : $"The template version has no preset '{name}'; it has: {string.Join(", ", names)}.");
        }

        return (matching[0].Id, matching.Where(row => row.Parameter is not null).ToDictionary(row => row.Parameter!, row => row.Value ?? string.Empty, StringComparer.Ordinal));
    }

    /// <summary>The version's template variables that have a value (given at push, or their default), as Terraform gets them.</summary>
    public static async Task<IReadOnlyList<VariableValue>> LoadVariablesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid versionId, CancellationToken cancellationToken)
    {
        var variables = await connection.QueryAsync<(string Name, string Value, bool Sensitive)>(new CommandDefinition(
            "SELECT name, value, sensitive FROM template_version_variables WHERE template_version_id = @Id AND value IS NOT NULL ORDER BY name",
            new { Id = versionId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. variables.Select(variable => new VariableValue { Name = variable.Name, Value = variable.Value, Sensitive = variable.Sensitive })];
    }

    /// <summary>
    /// The tags a run of the version is routed by: the tags its import ran with (those pushed, and the workspace tags'
    /// defaults, <see cref="ImportTags"/>), and over them its
    /// <c>coder_workspace_tags</c> evaluated with the run's parameter values and the version's variables (value, else default)
    /// (<see cref="WorkspaceTagEvaluator"/>; a workspace tag wins over a pushed tag of the same key, as in Coder). 400
    /// naming <c>workspace_tags.&lt;key&gt;</c> when a tag cannot be evaluated or is not a valid tag.
    /// </summary>
    public static async Task<SortedDictionary<string, string>> ResolveTagsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        VersionSource version,
        IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var expressions = (await connection.QueryAsync<(string Key, string Value)>(new CommandDefinition(
            "SELECT key, value FROM template_version_workspace_tags WHERE template_version_id = @Id",
            new { version.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDictionary(row => row.Key, row => row.Value, StringComparer.Ordinal);
        var tags = new Dictionary<string, string>(ProvisionerTags.FromJson(version.Tags), StringComparer.Ordinal);
        if (expressions.Count == 0)
        {
            return ProvisionerTags.Canonicalize(tags);
        }

        // As in Coder's wsbuilder, a variable without a value stands for its default (a string default as the plain string).
        var variables = (await connection.QueryAsync<(string Name, string Value)>(new CommandDefinition(
            "SELECT name, coalesce(value, default_value) FROM template_version_variables WHERE template_version_id = @Id",
            new { version.Id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDictionary(row => row.Name, row => row.Value, StringComparer.Ordinal);
        var evaluated = WorkspaceTagEvaluator.Evaluate(expressions, parameters, variables);
        foreach (var (key, value) in evaluated)
        {
            tags[key] = value;
        }

        try
        {
            return ProvisionerTags.Canonicalize(tags);
        }
        catch (ArgumentException exception)
        {
            throw ApiProblemException.Invalid("workspace_tags", $"The workspace tags evaluate to {System.Text.Json.JsonSerializer.Serialize(evaluated)}, which cannot route a job: {exception.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    /// <summary>A row of template_version_parameters, as <see cref="LoadParametersAsync"/> selects it.</summary>
    private sealed record ParameterRow(
        string Name, string DisplayName, string Type, string FormType, bool Mutable, string DefaultValue, bool Required, bool Ephemeral, string Options,
        string ValidationRegex, string ValidationError, int? ValidationMin, int? ValidationMax, string ValidationMonotonic);
}

/// <summary>A version's import job (whose archive, provisioner and tags a build or dry run reuses) and its name.</summary>
internal sealed record VersionSource(Guid Id, string Name, string Provisioner, string Tags, string Queue, string? FileHash, string JobStatus);
