using System.CommandLine;
using System.Text.Json;

using Provisioning.Cli.Config;

using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Provisioning.Cli.Commands;

/// <summary>
/// The parameter values a build command sends: <c>--rich-parameter-file</c> (a YAML map, as Coder's CLI reads it), then
/// <c>--parameter name=value</c> (wins), then answers to prompts for what is still missing on a terminal.
/// </summary>
internal static class ParameterInput
{
    public static Option<string[]> ParameterOption() =>
        CliCommon.KeyValueOption("--parameter", "A parameter name=value (repeatable; wins over --rich-parameter-file).");

    public static Option<string?> FileOption() => new("--rich-parameter-file")
    {
        Description = "A YAML file of parameter values, one `name: value` per parameter (a list becomes a JSON list).",
    };

    /// <summary>The values the file and the flags give, the flags winning.</summary>
    public static Dictionary<string, string> Read(ParseResult parse, Option<string[]> parameters, Option<string?> file)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var values = parse.GetValue(file) is { Length: > 0 } path ? ReadFile(path) : new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in CliCommon.ParsePairs(parse.GetValue(parameters), "--parameter"))
        {
            values[name] = value;
        }

        return values;
    }

    /// <summary>Reads a YAML map of parameter values: scalars as written, sequences as JSON lists of strings (list(string) parameters).</summary>
    public static Dictionary<string, string> ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"--rich-parameter-file {path} does not exist.");
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException exception)
        {
            throw new CliException($"--rich-parameter-file {path} is not valid YAML (line {exception.Start.Line}): {exception.Message}");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return values;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode map)
        {
            throw new CliException($"--rich-parameter-file {path} must be a map of parameter names to values (name: value).");
        }

        foreach (var (key, node) in map.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? throw new CliException($"{path}:{key.Start.Line}: a parameter name must be a plain string.");
            values[name] = node switch
            {
                YamlScalarNode scalar => scalar.Value ?? string.Empty,
                YamlSequenceNode sequence => JsonSerializer.Serialize(sequence.Children.Select(item =>
                    (item as YamlScalarNode)?.Value ?? throw new CliException($"{path}:{item.Start.Line}: list parameter '{name}' may hold only plain values."))),
                _ => throw new CliException($"{path}:{node.Start.Line}: parameter '{name}' must be a value or a list of values, not a map."),
            };
        }

        return values;
    }

    /// <summary>
    /// Completes <paramref name="values"/> for a build of a version with <paramref name="parameters"/>: on a terminal it
    /// asks for each parameter still to decide (all of them; with --yes only those that have no default), elsewhere it
    /// fails early, naming a required parameter nobody gave. <paramref name="decided"/> are the names a preset or the
    /// previous build already decides; ephemeral parameters are asked only when given explicitly, as in Coder.
    /// </summary>
    public static void Complete(
        IReadOnlyList<TemplateParameter> parameters,
        Dictionary<string, string> values,
        IReadOnlySet<string> decided,
        bool yes,
        ParameterPrompter? prompter,
        IReadOnlyDictionary<string, string>? previous = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(values);
        foreach (var parameter in parameters.OrderBy(parameter => parameter.DisplayOrder).ThenBy(parameter => parameter.Name, StringComparer.Ordinal))
        {
            if (values.ContainsKey(parameter.Name) || decided.Contains(parameter.Name) || parameter.Ephemeral)
            {
                continue;
            }

            var needsValue = parameter.Required && parameter.DefaultValue.Length == 0;
            if (prompter is null)
            {
                if (needsValue)
                {
                    throw new CliException($"Parameter '{parameter.Name}' is required and has no default: pass --parameter {parameter.Name}=VALUE or --rich-parameter-file FILE.");
                }

                continue;
            }

            if (needsValue || !yes)
            {
                values[parameter.Name] = prompter.Ask(parameter, previous is not null && previous.TryGetValue(parameter.Name, out var old) ? old : null);
            }
        }
    }
}
