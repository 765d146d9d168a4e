using System.Text.Json;

namespace Provisioning.TestProvider.Cty;

/// <summary>Reads a value from Terraform's JSON encoding (a stored state's attributes, as UpgradeResourceState gets them).</summary>
internal static class CtyJson
{
    public static object? Decode(ReadOnlySpan<byte> json, CtyType type)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        return Read(document.RootElement, type);
    }

    private static object? Read(JsonElement element, CtyType type)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return type switch
        {
            CtyPrimitive { Name: "string" } => element.GetString(),
            CtyPrimitive { Name: "bool" } => element.GetBoolean(),
            CtyPrimitive { Name: "number" } => element.ValueKind == JsonValueKind.String
                ? decimal.Parse(element.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                : element.GetDecimal(),
            CtyCollection { Kind: "list" or "set" } collection => element.EnumerateArray().Select(item => Read(item, collection.Element)).ToList(),
            CtyCollection { Kind: "map" } map => element.EnumerateObject().ToDictionary(property => property.Name, property => Read(property.Value, map.Element), StringComparer.Ordinal),
            // Attributes a stored state lacks (written by an older schema) are null; ones the schema does not know are dropped, as the SDK does.
            CtyObject objectType => objectType.Attributes.ToDictionary(
                pair => pair.Key,
                pair => element.TryGetProperty(pair.Key, out var attribute) ? Read(attribute, pair.Value) : null,
                StringComparer.Ordinal),
            _ => throw new InvalidDataException($"type {type} cannot be read from JSON."),
        };
    }
}
