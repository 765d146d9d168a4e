using System.Globalization;
using System.Text.Json;

namespace Provisioning.Terraform.State;

/// <summary>
/// Typed reads of a resource's attribute object with the reference system's decoding rules: a missing or
/// null attribute is the zero value, numbers convert between integer widths (JSON numbers are floats to
/// Go), and a value of the wrong kind is an error naming the attribute.
/// </summary>
internal readonly struct ResourceAttributes(JsonElement values)
{
    public bool IsObject => values.ValueKind == JsonValueKind.Object;

    /// <summary>Whether the attribute is present at all, even as null (a Go map lookup).</summary>
    public bool Has(string name) => IsObject && values.TryGetProperty(name, out _);

    /// <summary>Whether the attribute is present and non-null.</summary>
    public bool HasValue(string name) => TryGet(name, out _);

    public string String(string name, string what)
    {
        if (!TryGet(name, out var value))
        {
            return "";
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongKind(name, "string", value, what);
    }

    /// <summary>The attribute if it is a string (a Go type assertion): null otherwise, never an error.</summary>
    public string? StringOrNull(string name) =>
        TryGet(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The attribute if it is a boolean, null otherwise.</summary>
    public bool? BoolOrNull(string name) =>
        TryGet(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    public bool Bool(string name, string what)
    {
        if (!TryGet(name, out var value))
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongKind(name, "bool", value, what),
        };
    }

    public long Int64(string name, string what)
    {
        if (!TryGet(name, out var value))
        {
            return 0;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw WrongKind(name, "int", value, what);
        }

        if (value.TryGetInt64(out var integer))
        {
            return integer;
        }

        var number = value.GetDouble();
        return double.IsFinite(number) && number is > long.MinValue and < long.MaxValue ? (long)number : 0;
    }

    /// <summary>An int32 attribute; wider values wrap as the reference's integer conversion does.</summary>
    public int Int32(string name, string what) => unchecked((int)Int64(name, what));

    /// <summary>A nested block list (Terraform renders blocks as arrays of objects); missing or null is empty.</summary>
    public IReadOnlyList<ResourceAttributes> Blocks(string name, string what)
    {
        if (!TryGet(name, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw WrongKind(name, "list", value, what);
        }

        var blocks = new List<ResourceAttributes>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Null)
            {
                blocks.Add(new ResourceAttributes(default));
                continue;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                throw WrongKind(name, "list of objects", value, what);
            }

            blocks.Add(new ResourceAttributes(item));
        }

        return blocks;
    }

    /// <summary>A list of strings (null elements read as ""); missing or null is empty.</summary>
    public IReadOnlyList<string> StringList(string name, string what)
    {
        if (!TryGet(name, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw WrongKind(name, "list", value, what);
        }

        var items = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            items.Add(item.ValueKind switch
            {
                JsonValueKind.String => item.GetString()!,
                JsonValueKind.Null => "",
                _ => throw WrongKind($"{name}[{items.Count}]", "string", item, what),
            });
        }

        return items;
    }

    /// <summary>A map of strings, in the order the JSON lists it; missing or null is null.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? StringMap(string name, string what)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw WrongKind(name, "map", value, what);
        }

        var map = new List<KeyValuePair<string, string>>();
        foreach (var property in value.EnumerateObject())
        {
            var text = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Null => "",
                _ => throw WrongKind($"{name}[{property.Name}]", "string", property.Value, what),
            };
            map.Add(new KeyValuePair<string, string>(property.Name, text));
        }

        return map;
    }

    private bool TryGet(string name, out JsonElement value)
    {
        if (IsObject && values.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    private static StateConversionException WrongKind(string name, string expected, JsonElement value, string what) =>
        new(string.Create(
            CultureInfo.InvariantCulture,
            $"decode {what}: '{name}' expected type '{expected}', got {value.ValueKind.ToString().ToLowerInvariant()} {Truncate(value.GetRawText())}"));

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
