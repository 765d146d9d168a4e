namespace Provisioning.TestProvider.Cty;

/// <summary>
/// How values are held: <c>null</c> is a null value; <see cref="Unknown"/> an unknown one ("known after apply");
/// string, bool and decimal are primitives; <see cref="List{T}"/> of object holds a list or set; a
/// <see cref="Dictionary{TKey,TValue}"/> with string keys holds a map or an object (every attribute present).
/// </summary>
internal static class CtyValue
{
    /// <summary>The unknown value; Terraform sends and expects it as msgpack extension type 0.</summary>
    public static readonly object Unknown = new UnknownMarker();

    public static bool IsUnknown(object? value) => ReferenceEquals(value, Unknown);

    /// <summary>Whether the value and everything inside it is known.</summary>
    public static bool IsWhollyKnown(object? value) => value switch
    {
        UnknownMarker => false,
        List<object?> list => list.All(IsWhollyKnown),
        Dictionary<string, object?> map => map.Values.All(IsWhollyKnown),
        _ => true,
    };

    /// <summary>Deep equality of two values (sets compared as lists: the provider never reorders them).</summary>
    public static bool DeepEquals(object? left, object? right) => (left, right) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (UnknownMarker, UnknownMarker) => true,
        (List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(pair => DeepEquals(pair.First, pair.Second)),
        (Dictionary<string, object?> a, Dictionary<string, object?> b) =>
            a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && DeepEquals(pair.Value, other)),
        _ => left.Equals(right),
    };

    /// <summary>A deep copy, so a plan can be changed without changing the request's value.</summary>
    public static object? Copy(object? value) => value switch
    {
        List<object?> list => list.Select(Copy).ToList(),
        Dictionary<string, object?> map => map.ToDictionary(pair => pair.Key, pair => Copy(pair.Value), StringComparer.Ordinal),
        _ => value,
    };

    private sealed class UnknownMarker
    {
        public override string ToString() => "(unknown)";
    }
}
