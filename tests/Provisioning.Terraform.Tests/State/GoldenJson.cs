using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.State;

namespace Provisioning.Terraform.Tests.State;

/// <summary>
/// Maps our output into the JSON shape of the reference system's golden files and compares JSON trees.
/// The goldens are Go's <c>encoding/json</c> of the generated protobuf structs: top-level Go field names,
/// snake_case proto names with <c>omitempty</c> inside messages (so zero scalars and empty lists vanish but
/// a set, empty message stays as <c>{}</c>, and a set proto3 <c>optional</c> stays even when zero), enums
/// and 64-bit integers as JSON numbers, and each oneof as <c>"Auth": {"Token": ...}</c>.
/// </summary>
internal static class GoldenJson
{
    public static JsonObject ToGoldenShape(ConvertedState state) => new()
    {
        ["Resources"] = new JsonArray([.. state.Resources.Select(Message)]),
        ["Parameters"] = new JsonArray([.. state.Parameters.Select(Message)]),
        ["Presets"] = new JsonArray([.. state.Presets.Select(Message)]),
        ["ExternalAuthProviders"] = new JsonArray([.. state.ExternalAuthProviders.Select(Message)]),
        ["HasExternalAgents"] = state.HasExternalAgents,
    };

    public static JsonNode? Message(IMessage message)
    {
        var result = new JsonObject();
        var descriptor = message.Descriptor;
        foreach (var field in descriptor.Fields.InDeclarationOrder())
        {
            if (field.RealContainingOneof is not null)
            {
                continue;
            }

            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                var map = (IDictionary)value;
                if (map.Count > 0)
                {
                    var entries = new JsonObject();
                    foreach (var key in map.Keys.Cast<object>().OrderBy(key => key.ToString(), StringComparer.Ordinal))
                    {
                        entries[key.ToString()!] = JsonValue.Create(map[key]?.ToString());
                    }

                    result[field.Name] = entries;
                }

                continue;
            }

            if (field.IsRepeated)
            {
                var list = (IList)value;
                if (list.Count > 0)
                {
                    result[field.Name] = new JsonArray([.. list.Cast<object>().Select(item => Scalar(field, item))]);
                }

                continue;
            }

            if (field.FieldType == FieldType.Message)
            {
                if (value is IMessage nested)
                {
                    result[field.Name] = Message(nested);
                }

                continue;
            }

            var hasExplicitPresence = field.HasPresence && field.Accessor.HasValue(message);
            if (hasExplicitPresence || !IsZero(field, value))
            {
                result[field.Name] = Scalar(field, value);
            }
        }

        foreach (var oneof in descriptor.Oneofs.Where(oneof => !oneof.IsSynthetic))
        {
            var set = oneof.Accessor.GetCaseFieldDescriptor(message);
            result[GoName(oneof.Name)] = set is null
                ? null
                : new JsonObject { [GoName(set.Name)] = Scalar(set, set.Accessor.GetValue(message)) };
        }

        return result;
    }

    /// <summary>Every difference between two JSON trees, as "path: expected X, got Y" lines.</summary>
    public static List<string> Differences(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        var differences = new List<string>();
        Compare(expected, actual, path, differences);
        return differences;
    }

    private static void Compare(JsonNode? expected, JsonNode? actual, string path, List<string> differences)
    {
        switch (expected, actual)
        {
            case (null, null):
                return;
            case (JsonObject expectedObject, JsonObject actualObject):
                foreach (var (key, expectedValue) in expectedObject)
                {
                    if (!actualObject.TryGetPropertyValue(key, out var actualValue))
                    {
                        differences.Add($"{path}.{key}: expected {Show(expectedValue)}, but we do not produce it");
                        continue;
                    }

                    Compare(expectedValue, actualValue, $"{path}.{key}", differences);
                }

                foreach (var (key, actualValue) in actualObject)
                {
                    if (!expectedObject.ContainsKey(key))
                    {
                        differences.Add($"{path}.{key}: not in the golden, but we produce {Show(actualValue)}");
                    }
                }

                return;
            case (JsonArray expectedArray, JsonArray actualArray):
                if (expectedArray.Count != actualArray.Count)
                {
                    differences.Add($"{path}: expected {expectedArray.Count} items, got {actualArray.Count}");
                }

                for (var i = 0; i < Math.Min(expectedArray.Count, actualArray.Count); i++)
                {
                    Compare(expectedArray[i], actualArray[i], $"{path}[{i}]", differences);
                }

                return;
            case (JsonValue expectedValue, JsonValue actualValue) when ScalarEquals(expectedValue, actualValue):
                return;
            default:
                differences.Add($"{path}: expected {Show(expected)}, got {Show(actual)}");
                return;
        }
    }

    private static bool ScalarEquals(JsonValue expected, JsonValue actual)
    {
        var expectedElement = JsonSerializer.SerializeToElement(expected);
        var actualElement = JsonSerializer.SerializeToElement(actual);
        if (expectedElement.ValueKind != actualElement.ValueKind)
        {
            return false;
        }

        return expectedElement.ValueKind switch
        {
            JsonValueKind.Number => expectedElement.GetDecimal() == actualElement.GetDecimal(),
            JsonValueKind.String => expectedElement.GetString() == actualElement.GetString(),
            _ => expectedElement.GetRawText() == actualElement.GetRawText(),
        };
    }

    private static string Show(JsonNode? node) => node is null ? "null" : node.ToJsonString();

    private static JsonNode? Scalar(FieldDescriptor field, object? value) => value switch
    {
        null => null,
        IMessage message => Message(message),
        string text => JsonValue.Create(text),
        bool flag => JsonValue.Create(flag),
        ByteString bytes => JsonValue.Create(bytes.ToBase64()),
        Enum enumValue => JsonValue.Create(Convert.ToInt32(enumValue, CultureInfo.InvariantCulture)),
        int number => JsonValue.Create(number),
        long number => JsonValue.Create(number),
        uint number => JsonValue.Create(number),
        ulong number => JsonValue.Create(number),
        float number => JsonValue.Create(number),
        double number => JsonValue.Create(number),
        _ => throw new NotSupportedException($"field {field.FullName} has an unexpected value type {value.GetType()}"),
    };

    private static bool IsZero(FieldDescriptor field, object? value) => value switch
    {
        null => true,
        string text => text.Length == 0,
        bool flag => !flag,
        ByteString bytes => bytes.IsEmpty,
        Enum enumValue => Convert.ToInt64(enumValue, CultureInfo.InvariantCulture) == 0,
        int number => number == 0,
        long number => number == 0,
        uint number => number == 0,
        ulong number => number == 0,
        float number => number == 0,
        double number => number == 0,
        _ => throw new NotSupportedException($"field {field.FullName} has an unexpected value type {value.GetType()}"),
    };

    /// <summary>Go's generated name for a proto name: <c>instance_id</c> becomes <c>InstanceId</c>.</summary>
    private static string GoName(string protoName) =>
        string.Concat(protoName.Split('_', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
}
