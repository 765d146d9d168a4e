using System.Text.Json;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// Reads <c>template_version_parameters.options</c>: the protobuf JSON of the import's <c>RichParameterOption</c>s, in
/// which an empty field is left out (so an option whose value is "" has no <c>value</c>).
/// </summary>
internal static class ParameterOptions
{
    public static IReadOnlyList<string> Values(string? json) =>
        Parse(json).Select(option => option.Value).ToList();

    public static IReadOnlyList<(string Name, string Value, string Description)> Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(option => (Text(option, "name"), Text(option, "value"), Text(option, "description")))];
    }

    private static string Text(JsonElement option, string name) =>
        option.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Empty;
}
