using Provisioning.TestProvider.Cty;

namespace Provisioning.TestProvider.Schema;

/// <summary>
/// How the SDKv2 (which the real coder provider is built on) shapes values: defaults fill null configuration values,
/// primitives left out inside nested blocks become their zero value, computed values are unknown until applied.
/// </summary>
internal static class SdkValues
{
    /// <summary>
    /// Fills defaults into <paramref name="value"/> (an object of <paramref name="block"/>), in place; with
    /// <paramref name="zeroFill"/>, also the zero values a stored state has for primitives left out inside nested blocks.
    /// </summary>
    public static void ApplyDefaults(SchemaBlock block, Dictionary<string, object?> value, bool zeroFill, bool nested = false)
    {
        foreach (var attribute in block.Attributes.Values)
        {
            var current = value.GetValueOrDefault(attribute.Name);
            if (current is not null)
            {
                continue;
            }

            if (attribute.Default is not null)
            {
                value[attribute.Name] = attribute.Default;
            }
            else if (zeroFill && nested && !attribute.Computed)
            {
                value[attribute.Name] = ZeroValue(attribute.Type);
            }
        }

        foreach (var nestedBlock in block.Blocks.Values)
        {
            if (value.GetValueOrDefault(nestedBlock.Name) is List<object?> elements)
            {
                foreach (var element in elements.OfType<Dictionary<string, object?>>())
                {
                    ApplyDefaults(nestedBlock.Block, element, zeroFill, nested: true);
                }
            }
            else if (value.GetValueOrDefault(nestedBlock.Name) is null && !nestedBlock.Computed)
            {
                value[nestedBlock.Name] = new List<object?>();
            }
        }
    }

    /// <summary>Marks computed attributes that have no value (and empty computed blocks) unknown, in place: "known after apply".</summary>
    public static void MarkComputedUnknown(SchemaBlock block, Dictionary<string, object?> value)
    {
        foreach (var attribute in block.Attributes.Values.Where(attribute => attribute.Computed))
        {
            if (value.GetValueOrDefault(attribute.Name) is null)
            {
                value[attribute.Name] = CtyValue.Unknown;
            }
        }

        foreach (var nestedBlock in block.Blocks.Values)
        {
            var current = value.GetValueOrDefault(nestedBlock.Name);
            if (nestedBlock.Computed && current is null or List<object?> { Count: 0 })
            {
                value[nestedBlock.Name] = CtyValue.Unknown;
            }
            else if (current is List<object?> elements)
            {
                foreach (var element in elements.OfType<Dictionary<string, object?>>())
                {
                    MarkComputedUnknown(nestedBlock.Block, element);
                }
            }
        }
    }

    /// <summary>Replaces every unknown left after apply with null, in place (a state must be wholly known).</summary>
    public static object? UnknownToNull(object? value)
    {
        switch (value)
        {
            case var unknown when CtyValue.IsUnknown(unknown):
                return null;
            case List<object?> list:
                for (var index = 0; index < list.Count; index++)
                {
                    list[index] = UnknownToNull(list[index]);
                }

                return list;
            case Dictionary<string, object?> map:
                foreach (var key in map.Keys.ToList())
                {
                    map[key] = UnknownToNull(map[key]);
                }

                return map;
            default:
                return value;
        }
    }

    /// <summary>The names of the configurable attributes and blocks whose values differ between two objects.</summary>
    public static List<string> ConfigurableDifferences(SchemaBlock block, Dictionary<string, object?> planned, Dictionary<string, object?> prior)
    {
        var differences = new List<string>();
        foreach (var attribute in block.Attributes.Values.Where(attribute => attribute.Required || attribute.Optional))
        {
            if (attribute is { Optional: true, Computed: true } && planned.GetValueOrDefault(attribute.Name) is null)
            {
                continue;
            }

            if (!CtyValue.DeepEquals(Configurable(attribute, planned), Configurable(attribute, prior)))
            {
                differences.Add(attribute.Name);
            }
        }

        foreach (var nestedBlock in block.Blocks.Values)
        {
            var plannedElements = planned.GetValueOrDefault(nestedBlock.Name);
            if (nestedBlock.Computed && plannedElements is null or List<object?> { Count: 0 })
            {
                continue;
            }

            if (!BlocksEqual(nestedBlock.Block, plannedElements, prior.GetValueOrDefault(nestedBlock.Name)))
            {
                differences.Add(nestedBlock.Name);
            }
        }

        return differences;
    }

    private static bool BlocksEqual(SchemaBlock block, object? left, object? right)
    {
        var leftList = left as List<object?> ?? [];
        var rightList = right as List<object?> ?? [];
        return leftList.Count == rightList.Count
            && leftList.Zip(rightList).All(pair => pair.First is Dictionary<string, object?> a && pair.Second is Dictionary<string, object?> b
                && ConfigurableDifferences(block, a, b).Count == 0);
    }

    private static object? Configurable(SchemaAttribute attribute, Dictionary<string, object?> value) => value.GetValueOrDefault(attribute.Name);

    private static object? ZeroValue(CtyType type) => type switch
    {
        CtyPrimitive { Name: "string" } => "",
        CtyPrimitive { Name: "number" } => 0m,
        CtyPrimitive { Name: "bool" } => false,
        _ => null,
    };
}
