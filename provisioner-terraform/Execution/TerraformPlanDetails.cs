using System.Text.Json;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>Reads what the protocol wants from a plan's JSON and the init's module manifest, beyond the converted resources.</summary>
internal static class TerraformPlanDetails
{
    /// <summary>Resources the plan replaces, with the attribute paths that force it.</summary>
    public static List<ResourceReplacement> Replacements(JsonElement plan)
    {
        var replacements = new List<ResourceReplacement>();
        if (!plan.TryGetProperty("resource_changes", out var changes) || changes.ValueKind != JsonValueKind.Array)
        {
            return replacements;
        }

        foreach (var change in changes.EnumerateArray())
        {
            if (!change.TryGetProperty("change", out var detail)
                || !detail.TryGetProperty("actions", out var actions)
                || actions.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var names = actions.EnumerateArray().Select(action => action.GetString()).ToList();
            if (!names.Contains("delete") || !names.Contains("create"))
            {
                continue;
            }

            var replacement = new ResourceReplacement { Resource = change.TryGetProperty("address", out var address) ? address.GetString() ?? "" : "" };
            if (detail.TryGetProperty("replace_paths", out var paths) && paths.ValueKind == JsonValueKind.Array)
            {
                foreach (var path in paths.EnumerateArray())
                {
                    if (path.ValueKind == JsonValueKind.Array)
                    {
                        replacement.Paths.Add(string.Join('.', path.EnumerateArray().Select(step => step.ValueKind == JsonValueKind.String ? step.GetString() : step.GetRawText())));
                    }
                }
            }

            replacements.Add(replacement);
        }

        return replacements;
    }

    /// <summary>Modules <c>init</c> installed, from <c>.terraform/modules/modules.json</c>; empty when there are none.</summary>
    public static List<Module> Modules(string workDirectory)
    {
        var manifest = Path.Combine(workDirectory, ".terraform", "modules", "modules.json");
        var modules = new List<Module>();
        if (!File.Exists(manifest))
        {
            return modules;
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
        if (!document.RootElement.TryGetProperty("Modules", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return modules;
        }

        foreach (var entry in entries.EnumerateArray())
        {
            var key = Text(entry, "Key");
            if (key.Length == 0)
            {
                // The root module: the template itself.
                continue;
            }

            modules.Add(new Module { Key = key, Source = Text(entry, "Source"), Version = Text(entry, "Version"), Dir = Text(entry, "Dir") });
        }

        return modules;
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";
}
