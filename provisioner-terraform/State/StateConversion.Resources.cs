using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.State;

internal sealed partial class StateConversion
{
    private const string InvalidAddressModulePath = "invalid terraform address";

    // The attribute holding the machine size of the compute resource types whose size is shown.
    private static readonly Dictionary<string, string> InstanceTypeAttributes = new(StringComparer.Ordinal)
    {
        ["google_compute_instance"] = "machine_type",
        ["aws_instance"] = "instance_type",
        ["aws_spot_instance_request"] = "instance_type",
        ["azurerm_linux_virtual_machine"] = "size",
        ["azurerm_windows_virtual_machine"] = "size",
    };

    /// <summary>What <c>coder_metadata</c> resources say about the resource they point at, by its label.</summary>
    private sealed record Decoration(bool Hide, string Icon, int DailyCost, IReadOnlyList<Resource.Types.Metadata> Items);

    /// <summary>
    /// Each <c>coder_metadata</c> decorates the closest managed resource it depends on (usually through its
    /// <c>resource_id</c>); two of them on the same resource are an error.
    /// </summary>
    private Dictionary<string, Decoration> CollectMetadata()
    {
        const string what = "metadata attributes";
        var decorations = new Dictionary<string, Decoration>(StringComparer.Ordinal);
        foreach (var resource in OfType("coder_metadata"))
        {
            var attributes = resource.Attributes;
            var hide = attributes.Bool("hide", what);
            var icon = attributes.String("icon", what);
            var dailyCost = attributes.Int32("daily_cost", what);
            var items = attributes.Blocks("item", what)
                .Select(item => new Resource.Types.Metadata
                {
                    Key = item.String("key", what),
                    Value = item.String("value", what),
                    Sensitive = item.Bool("sensitive", what),
                    IsNull = item.Bool("is_null", what),
                })
                .ToList();

            if (_graph.FindByAddress(resource.Label) is not { } node
                || FindNearestResource(node, upwards: false) is not { } target)
            {
                continue;
            }

            if (!decorations.TryAdd(target, new Decoration(hide, icon, dailyCost, items)))
            {
                throw new StateConversionException($"duplicate metadata resource: {target}");
            }
        }

        return decorations;
    }

    private List<Resource> BuildResources(Dictionary<string, Decoration> decorations)
    {
        // In address order (_sortedByAddress; addresses are unique, so the order is total).
        var resources = new List<Resource>(_sortedByAddress.Count);
        foreach (var terraformResource in _sortedByAddress)
        {
            if (terraformResource.IsData || NonResourceTypes.Contains(terraformResource.Type))
            {
                continue;
            }

            var label = terraformResource.Label;
            var converted = new Resource
            {
                Name = terraformResource.Name,
                Type = terraformResource.Type,
                ModulePath = TerraformAddress.ModulePath(terraformResource.Address) ?? InvalidAddressModulePath,
                InstanceType = InstanceTypeAttributes.TryGetValue(terraformResource.Type, out var attribute)
                    ? terraformResource.Attributes.StringOrNull(attribute) ?? ""
                    : "",
            };

            if (_agentsByResourceLabel.TryGetValue(label, out var agents))
            {
                ApplyAutomaticInstanceId(terraformResource, agents);
                converted.Agents.AddRange(agents);
            }

            if (decorations.TryGetValue(label, out var decoration))
            {
                converted.Hide = decoration.Hide;
                converted.Icon = decoration.Icon;
                converted.DailyCost = decoration.DailyCost;
                converted.Metadata.AddRange(decoration.Items.Select(item => item.Clone()));
            }

            resources.Add(converted);
        }

        return resources;
    }

    private List<ExternalAuthProviderResource> ConvertExternalAuthProviders()
    {
        // The legacy coder_git_auth first, so that coder_external_auth wins when both name the same provider.
        var providers = new Dictionary<string, ExternalAuthProviderResource>(StringComparer.Ordinal);
        foreach (var resource in OfType("coder_git_auth").Concat(OfType("coder_external_auth")))
        {
            var id = resource.Attributes.StringOrNull("id")
                ?? throw new StateConversionException("external auth id is not a string");
            providers[id] = new ExternalAuthProviderResource
            {
                Id = id,
                Optional = resource.Attributes.BoolOrNull("optional") ?? false,
            };
        }

        return providers.Values.OrderBy(provider => provider.Id, StringComparer.Ordinal).ToList();
    }
}
