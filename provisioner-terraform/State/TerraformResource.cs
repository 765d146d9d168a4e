using System.Text.Json;

namespace Provisioning.Terraform.State;

/// <summary>One resource instance of <c>terraform show -json</c> (a state or planned-values module entry).</summary>
/// <param name="Address">The full address, e.g. <c>module.dev.null_resource.vm[0]</c>.</param>
/// <param name="Mode"><c>managed</c> or <c>data</c>.</param>
/// <param name="Attributes">The <c>values</c> object (unknown values of a plan are simply absent).</param>
internal sealed record TerraformResource(string Address, string Mode, string Type, string Name, ResourceAttributes Attributes)
{
    public bool IsManaged => string.Equals(Mode, "managed", StringComparison.Ordinal);

    public bool IsData => string.Equals(Mode, "data", StringComparison.Ordinal);

    /// <summary>
    /// The address without its first instance key, which is how <c>terraform graph</c> names the node:
    /// <c>null_resource.vm[0]</c> becomes <c>null_resource.vm</c>. Like the reference system it cuts at the
    /// first '[' (so an instance key on a module also ends the label there). Computed once: every step of a
    /// conversion looks resources up by it.
    /// </summary>
    public string Label { get; } = Address.IndexOf('[', StringComparison.Ordinal) is var bracket and >= 0 ? Address[..bracket] : Address;

    /// <summary>Reads the resources of a module and of its child modules, children first (as the reference does).</summary>
    public static void ReadModule(JsonElement module, List<TerraformResource> into) => ReadModule(module, into, new SharedStrings());

    private static void ReadModule(JsonElement module, List<TerraformResource> into, SharedStrings shared)
    {
        if (module.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (module.TryGetProperty("child_modules"u8, out var children) && children.ValueKind == JsonValueKind.Array)
        {
            foreach (var child in children.EnumerateArray())
            {
                ReadModule(child, into, shared);
            }
        }

        if (module.TryGetProperty("resources"u8, out var resources) && resources.ValueKind == JsonValueKind.Array)
        {
            into.EnsureCapacity(into.Count + resources.GetArrayLength());
            foreach (var resource in resources.EnumerateArray())
            {
                into.Add(Read(resource, shared));
            }
        }
    }

    /// <summary>
    /// One pass over the resource's properties (a named lookup scans the object each time; 10,000-resource states
    /// made that a visible share of the conversion, bench/Provisioning.Bench.Micro). A repeated property keeps its
    /// last value, as a lookup by name does.
    /// </summary>
    private static TerraformResource Read(JsonElement resource, SharedStrings shared)
    {
        string address = "", mode = "", type = "", name = "";
        JsonElement values = default;
        if (resource.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in resource.EnumerateObject())
            {
                var value = property.Value;
                if (property.NameEquals("address"u8))
                {
                    address = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
                }
                else if (property.NameEquals("mode"u8))
                {
                    mode = shared.Get(value);
                }
                else if (property.NameEquals("type"u8))
                {
                    type = shared.Get(value);
                }
                else if (property.NameEquals("name"u8))
                {
                    name = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
                }
                else if (property.NameEquals("values"u8))
                {
                    values = value;
                }
            }
        }

        return new TerraformResource(address, mode, type, name, new ResourceAttributes(values));
    }

    /// <summary>
    /// Modes and types repeat across a state (a few distinct values for thousands of resources): each distinct value
    /// is read into a string once. Bounded, so a state of many distinct types costs at most a short scan per read.
    /// </summary>
    private sealed class SharedStrings
    {
        private const int Capacity = 32;
        private readonly List<(string Text, byte[] Utf8)> _seen = [("managed", "managed"u8.ToArray()), ("data", "data"u8.ToArray())];

        public string Get(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.String)
            {
                return "";
            }

            // Compared as UTF-8, the document's own encoding: comparing with a string transcodes it at every call.
            foreach (var (text, utf8) in _seen)
            {
                if (value.ValueEquals(utf8))
                {
                    return text;
                }
            }

            var read = value.GetString()!;
            if (_seen.Count < Capacity)
            {
                _seen.Add((read, System.Text.Encoding.UTF8.GetBytes(read)));
            }

            return read;
        }
    }
}
