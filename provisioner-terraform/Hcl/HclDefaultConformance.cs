using System.Globalization;
using System.Text.Json;

using Provisioning.Sdk.Hcl;

namespace Provisioning.Terraform.Hcl;

/// <summary>
/// Checks a variable's default against its (already validated) type constraint with Terraform's
/// conversion rules: strings, numbers and bools convert into each other where the text allows
/// ("1" is a number, "true" and "1" are bools, any primitive is a string), objects lose extra
/// attributes, and optional attributes may be missing. Where <c>any</c> is involved, Terraform also
/// unifies element types; that is not modelled, so such defaults are accepted and left to Terraform.
/// </summary>
internal static class HclDefaultConformance
{
    /// <summary>Null when the default converts to the type; otherwise what is wrong, and where.</summary>
    public static string? Problem(HclExpression type, string defaultJson)
    {
        using var document = JsonDocument.Parse(defaultJson);
        return Problem(type, document.RootElement, "");
    }

    private static string? Problem(HclExpression type, JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        switch (type)
        {
            case HclVariableExpression { Name: "any" }:
                return null;
            case HclVariableExpression { Name: "list" }:
                return value.ValueKind == JsonValueKind.Array ? null : At(path, "a list is required");
            case HclVariableExpression { Name: "map" }:
                return value.ValueKind == JsonValueKind.Object ? null : At(path, "a map is required");
            case HclVariableExpression { Name: "string" }:
                return value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                    ? null
                    : At(path, "a string is required");
            case HclVariableExpression { Name: "number" }:
                return value.ValueKind == JsonValueKind.Number
                    || (value.ValueKind == JsonValueKind.String && IsNumberText(value.GetString()!))
                    ? null
                    : At(path, "a number is required");
            case HclVariableExpression { Name: "bool" }:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False
                    || (value.ValueKind == JsonValueKind.String && value.GetString() is "true" or "false" or "1" or "0")
                    ? null
                    : At(path, "a bool is required");
            case HclFunctionCallExpression { Name: "list" or "set", Arguments: [var element] } call:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    return At(path, $"a {call.Name} is required");
                }

                return value.EnumerateArray()
                    .Select((item, index) => Problem(element, item, $"{path}[{index}]"))
                    .FirstOrDefault(problem => problem is not null);
            case HclFunctionCallExpression { Name: "map", Arguments: [var element] }:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    return At(path, "a map is required");
                }

                return value.EnumerateObject()
                    .Select(property => Problem(element, property.Value, $"{path}[\"{property.Name}\"]"))
                    .FirstOrDefault(problem => problem is not null);
            case HclFunctionCallExpression { Name: "object", Arguments: [HclObjectExpression attributes] }:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    return At(path, "an object is required");
                }

                foreach (var item in attributes.Items)
                {
                    var name = ((HclVariableExpression)item.Key).Name;
                    var (attributeType, optional) = item.Value is HclFunctionCallExpression { Name: "optional", Arguments: [var inner, ..] }
                        ? (inner, true)
                        : (item.Value, false);
                    if (!value.TryGetProperty(name, out var attributeValue))
                    {
                        if (!optional)
                        {
                            return At(path, $"attribute \"{name}\" is required");
                        }

                        continue;
                    }

                    if (Problem(attributeType, attributeValue, $"{path}.{name}") is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case HclFunctionCallExpression { Name: "tuple", Arguments: [HclTupleExpression elements] }:
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != elements.Items.Count)
                {
                    return At(path, $"a tuple of {elements.Items.Count} elements is required");
                }

                return value.EnumerateArray()
                    .Select((item, index) => Problem(elements.Items[index], item, $"{path}[{index}]"))
                    .FirstOrDefault(problem => problem is not null);
            default:
                // Only validated types reach here; anything unforeseen is left to Terraform.
                return null;
        }
    }

    /// <summary>Terraform parses numbers from strings strictly: no blanks, no hex; sign and exponent allowed.</summary>
    private static bool IsNumberText(string text) =>
        text.Length > 0
        && !text.Any(char.IsWhiteSpace)
        && double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out _);

    private static string At(string path, string problem) => path.Length == 0 ? problem : $"{problem} at {path}";
}
