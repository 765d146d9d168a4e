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
    /// first '[' (so an instance key on a module also ends the label there).
    /// </summary>
    public string Label
    {
        get
        {
            var bracket = Address.IndexOf('[', StringComparison.Ordinal);
            return bracket < 0 ? Address : Address[..bracket];
        }
    }

    /// <summary>Reads the resources of a module and of its child modules, children first (as the reference does).</summary>
    public static void ReadModule(JsonElement module, List<TerraformResource> into)
    {
        if (module.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (module.TryGetProperty("child_modules", out var children) && children.ValueKind == JsonValueKind.Array)
        {
            foreach (var child in children.EnumerateArray())
            {
                ReadModule(child, into);
            }
        }

        if (module.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array)
        {
            foreach (var resource in resources.EnumerateArray())
            {
                into.Add(new TerraformResource(
                    StringProperty(resource, "address"),
                    StringProperty(resource, "mode"),
                    StringProperty(resource, "type"),
                    StringProperty(resource, "name"),
                    new ResourceAttributes(resource.TryGetProperty("values", out var values) ? values : default)));
            }
        }
    }

    private static string StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
}
