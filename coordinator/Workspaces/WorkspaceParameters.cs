using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

using Provisioning.Coordinator.Api;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// Resolves and validates a build's parameter values (pure logic), the way Coder's <c>wsbuilder</c> and
/// <c>codersdk.ParameterResolver</c> do, so a bad value is refused before anything is queued (400, naming
/// <c>rich_parameter_values.&lt;name&gt;</c>) instead of failing later inside Terraform:
/// <list type="bullet">
/// <item>the value is the preset's, else the one given, else the previous build's (never for an ephemeral parameter: its
/// value lasts one build), else the default;</item>
/// <item>an immutable parameter keeps the value of the previous build; a required one without a value is refused;</item>
/// <item>the value must be one of the options, and pass the <c>validation</c> block (regex with its error, min/max,
/// monotonic against the previous build's value) and the type, with the messages of Coder and its provider.</item>
/// </list>
/// </summary>
internal static class WorkspaceParameters
{
    /// <summary>Template regexes run on user input: bound their time so a pathological pattern cannot hold a request.</summary>
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    public static Dictionary<string, string> Resolve(
        IReadOnlyList<WorkspaceParameter> parameters,
        IReadOnlyList<KeyValuePair<string, string>>? given,
        IReadOnlyDictionary<string, string>? previous,
        IReadOnlyDictionary<string, string>? preset = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var byName = parameters.ToDictionary(parameter => parameter.Name, StringComparer.Ordinal);
        var givenValues = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in given ?? [])
        {
            if (!byName.ContainsKey(name))
            {
                throw Invalid(name, $"The template version has no parameter '{name}'; it has: {Names(parameters)}.");
            }

            if (!givenValues.TryAdd(name, value))
            {
                throw Invalid(name, $"Parameter '{name}' is given twice.");
            }
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            // As in Coder, a preset's value wins over a value given with it.
            string? value = preset is not null && preset.TryGetValue(parameter.Name, out var fromPreset) ? fromPreset
                : givenValues.TryGetValue(parameter.Name, out var fromUser) ? fromUser
                : null;
            string? old = previous is not null && previous.TryGetValue(parameter.Name, out var last) ? last : null;
            if (!parameter.Mutable && value is not null && old is not null && value != old)
            {
                throw Invalid(parameter.Name, $"Parameter \"{parameter.Name}\" is not mutable, so it can't be updated after creating a workspace (it keeps \"{old}\").");
            }

            if (parameter.Required && value is null && old is null)
            {
                throw Invalid(parameter.Name, $"Parameter \"{parameter.Name}\" is required but not provided: pass a value for it (e.g. --parameter {parameter.Name}=VALUE).");
            }

            var resolved = value ?? (parameter.Ephemeral ? null : old) ?? parameter.DefaultValue;
            if (Validate(parameter, resolved, old) is { } error)
            {
                throw Invalid(parameter.Name, $"Unable to validate parameter \"{parameter.Name}\": can't validate build parameter \"{parameter.ShownName}\": {error}");
            }

            values[parameter.Name] = resolved;
        }

        return values;
    }

    /// <summary>The reason <paramref name="value"/> is not valid for <paramref name="parameter"/> given the previous build's value, or null.</summary>
    public static string? Validate(WorkspaceParameter parameter, string value, string? previous)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (parameter.Required && value.Length == 0)
        {
            return "parameter value is required";
        }

        if (value.Length == 0)
        {
            value = parameter.DefaultValue;
        }

        if (parameter.OptionValues.Count > 0 && !InOptions(parameter, value))
        {
            return $"parameter value must match one of options: [{string.Join(' ', parameter.OptionValues)}]";
        }

        if (HasValidation(parameter))
        {
            if (ValidationError(parameter, value, previous) is { } error)
            {
                return error;
            }
        }

        // Coder leaves the type to the provider at plan time; checking it here refuses the value before anything is queued.
        return TypeError(parameter.Type, value);
    }

    private static bool HasValidation(WorkspaceParameter parameter) =>
        parameter.ValidationRegex.Length > 0 || parameter.ValidationMin is not null || parameter.ValidationMax is not null
        || parameter.ValidationMonotonic.Length > 0 || parameter.Type is "bool" or "list(string)";

    private static bool InOptions(WorkspaceParameter parameter, string value)
    {
        // A multi-select list(string) is valid when every element is an option; otherwise the value itself must be one.
        if (parameter.Type == "list(string)" && parameter.FormType == "multiselect")
        {
            return ParseList(value) is { } items && items.All(parameter.OptionValues.Contains);
        }

        return parameter.OptionValues.Contains(value);
    }

    /// <summary>The provider's <c>Validation.Valid</c>, with its messages.</summary>
    private static string? ValidationError(WorkspaceParameter parameter, string value, string? previous)
    {
        var type = parameter.Type;
        if (type != "number")
        {
            if (parameter.ValidationMin is not null)
            {
                return $"a min cannot be specified for a {type} type";
            }

            if (parameter.ValidationMax is not null)
            {
                return $"a max cannot be specified for a {type} type";
            }

            if (parameter.ValidationMonotonic.Length > 0)
            {
                return $"monotonic validation can only be specified for number types, not {type} types";
            }
        }

        if (type != "string" && parameter.ValidationRegex.Length > 0)
        {
            return $"a regex cannot be specified for a {type} type";
        }

        switch (type)
        {
            case "bool":
                return value is "true" or "false" ? null : "boolean value can be either \"true\" or \"false\"";
            case "string":
                return RegexError(parameter, value);
            case "number":
                return NumberError(parameter, value, previous);
            case "list(string)":
                return ParseList(value) is null ? $"value \"{value}\" is not valid list of strings" : null;
            default:
                return null;
        }
    }

    private static string? RegexError(WorkspaceParameter parameter, string value)
    {
        if (parameter.ValidationRegex.Length == 0)
        {
            return null;
        }

        Regex regex;
        try
        {
            regex = new Regex(parameter.ValidationRegex, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException exception)
        {
            return $"compile regex \"{parameter.ValidationRegex}\": {exception.Message}";
        }

        if (parameter.ValidationError.Length == 0)
        {
            return "an error must be specified with a regex validation";
        }

        bool matched;
        try
        {
            matched = regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return $"the regex \"{parameter.ValidationRegex}\" took too long on value \"{value}\"";
        }

        return matched ? null : $"{parameter.ValidationError} (value \"{value}\" does not match \"{parameter.ValidationRegex}\")";
    }

    private static string? NumberError(WorkspaceParameter parameter, string value, string? previous)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return Rendered(parameter, value) ?? $"value \"{value}\" is not a number";
        }

        if (parameter.ValidationMin is { } min && number < min)
        {
            return Rendered(parameter, value) ?? $"value {number} is less than the minimum {min}";
        }

        if (parameter.ValidationMax is { } max && number > max)
        {
            return Rendered(parameter, value) ?? $"value {number} is more than the maximum {max}";
        }

        switch (parameter.ValidationMonotonic)
        {
            case "":
                return null;
            case "increasing" or "decreasing":
                // As in the provider: a previous value that is not a number is not held against the new one, or the workspace could never be repaired.
                if (previous is null || !int.TryParse(previous, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var old))
                {
                    return null;
                }

                if (parameter.ValidationMonotonic == "increasing" && number < old)
                {
                    return $"parameter value '{number}' must be equal or greater than previous value: {old}";
                }

                return parameter.ValidationMonotonic == "decreasing" && number > old
                    ? $"parameter value '{number}' must be equal or lower than previous value: {old}"
                    : null;
            default:
                return "number monotonicity can be either \"increasing\" or \"decreasing\"";
        }
    }

    /// <summary>The template's own error with {min}, {max} and {value} filled in, or null when it gives none.</summary>
    private static string? Rendered(WorkspaceParameter parameter, string value) =>
        parameter.ValidationError.Length == 0
            ? null
            : parameter.ValidationError
                .Replace("{min}", (parameter.ValidationMin ?? 0).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{max}", (parameter.ValidationMax ?? 0).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{value}", value, StringComparison.Ordinal);

    private static string? TypeError(string type, string value) => type switch
    {
        "number" when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => $"\"{value}\" is not a number",
        "bool" when value is not ("true" or "false") => $"\"{value}\" is not a bool",
        "list(string)" when ParseList(value) is null => $"value \"{value}\" is not a valid list of strings",
        _ => null,
    };

    private static string[]? ParseList(string value)
    {
        try
        {
            return JsonSerializer.Deserialize<string[]>(value);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Names(IReadOnlyList<WorkspaceParameter> parameters) =>
        parameters.Count == 0 ? "none" : string.Join(", ", parameters.Select(parameter => parameter.Name).Order(StringComparer.Ordinal));

    private static ApiProblemException Invalid(string name, string reason) => ApiProblemException.Invalid($"rich_parameter_values.{name}", reason);
}
