using Provisioning.Coordinator.Api;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// Resolves a build's parameter values (pure logic): given ones override the previous build's, defaults fill
/// the rest; an unknown name, a changed immutable parameter, or a required one without a value is refused (400,
/// naming <c>rich_parameter_values.&lt;name&gt;</c>).
/// </summary>
internal static class WorkspaceParameters
{
    public static Dictionary<string, string> Resolve(
        IReadOnlyDictionary<string, WorkspaceParameter> parameters,
        IReadOnlyList<KeyValuePair<string, string>>? given,
        IReadOnlyDictionary<string, string>? previous)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in given ?? [])
        {
            if (!parameters.TryGetValue(name, out var parameter))
            {
                throw ApiProblemException.Invalid($"rich_parameter_values.{name}", $"The template version has no parameter '{name}'; it has: {string.Join(", ", parameters.Keys.Order(StringComparer.Ordinal))}.");
            }

            if (!values.TryAdd(name, value))
            {
                throw ApiProblemException.Invalid($"rich_parameter_values.{name}", $"Parameter '{name}' is given twice.");
            }

            if (previous is not null && !parameter.Mutable && previous.TryGetValue(name, out var old) && old != value)
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
}
