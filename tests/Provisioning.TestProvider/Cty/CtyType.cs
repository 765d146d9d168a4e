using System.Text.Json.Nodes;

namespace Provisioning.TestProvider.Cty;

/// <summary>
/// A Terraform (cty) type, as far as the coder provider's schema needs: primitives, list, set, map and object.
/// Values of these types are plain .NET objects; see <see cref="CtyValue"/>.
/// </summary>
internal abstract record CtyType
{
    public static readonly CtyType String = new CtyPrimitive("string");
    public static readonly CtyType Number = new CtyPrimitive("number");
    public static readonly CtyType Bool = new CtyPrimitive("bool");

    public static CtyType ListOf(CtyType element) => new CtyCollection("list", element);

    public static CtyType SetOf(CtyType element) => new CtyCollection("set", element);

    public static CtyType MapOf(CtyType element) => new CtyCollection("map", element);

    /// <summary>The type in Terraform's JSON type notation, as a schema attribute's <c>type</c> bytes carry it.</summary>
    public abstract JsonNode ToJson();
}

/// <summary>string, number or bool.</summary>
internal sealed record CtyPrimitive(string Name) : CtyType
{
    public override JsonNode ToJson() => JsonValue.Create(Name);
}

/// <summary>list, set or map of one element type.</summary>
internal sealed record CtyCollection(string Kind, CtyType Element) : CtyType
{
    public override JsonNode ToJson() => new JsonArray(JsonValue.Create(Kind), Element.ToJson());
}

/// <summary>An object type: attribute names and their types (ordinal order, as cty writes them).</summary>
internal sealed record CtyObject(SortedDictionary<string, CtyType> Attributes) : CtyType
{
    public override JsonNode ToJson()
    {
        var attributes = new JsonObject();
        foreach (var (name, type) in Attributes)
        {
            attributes[name] = type.ToJson();
        }

        return new JsonArray(JsonValue.Create("object"), attributes);
    }

    public bool Equals(CtyObject? other) =>
        other is not null && Attributes.Count == other.Attributes.Count
        && Attributes.All(pair => other.Attributes.TryGetValue(pair.Key, out var type) && type == pair.Value);

    public override int GetHashCode() => Attributes.Count;
}
