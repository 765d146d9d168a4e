using System.Text.Json;

namespace Provisioning.Terraform.State;

/// <summary>
/// Turns the output of <c>terraform show -json</c> (of a state or of a saved plan) and of
/// <c>terraform graph</c> into the resource model of the provisioner protocol, following the reference
/// system's rules: agents attach to the nearest managed resource that depends on them, apps, scripts and
/// environment variables attach to their agent, <c>coder_metadata</c> decorates the resource it points
/// at, and <c>coder_parameter</c> / <c>coder_external_auth</c> / <c>coder_workspace_preset</c> become the
/// template's parameters, auth providers and presets.
/// </summary>
public sealed class StateConverter
{
    /// <summary>Converts a state: <paramref name="stateJson"/> is the root of <c>terraform show -json</c>.</summary>
    /// <exception cref="StateConversionException">The state breaks a rule of the resource model.</exception>
    public ConvertedState ConvertState(JsonElement stateJson, string dotGraph)
    {
        ArgumentNullException.ThrowIfNull(dotGraph);
        var resources = new List<TerraformResource>();
        if (stateJson.ValueKind == JsonValueKind.Object
            && stateJson.TryGetProperty("values", out var values)
            && values.ValueKind == JsonValueKind.Object
            && values.TryGetProperty("root_module", out var rootModule))
        {
            TerraformResource.ReadModule(rootModule, resources);
        }

        return Convert(resources, dotGraph);
    }

    /// <summary>
    /// Converts a saved plan: <paramref name="planJson"/> is the root of <c>terraform show -json plan.out</c>.
    /// The planned values come first, then the prior state (which is where the plan keeps the data sources it
    /// read, such as <c>coder_parameter</c>), as the reference system feeds them.
    /// </summary>
    /// <exception cref="StateConversionException">The plan breaks a rule of the resource model.</exception>
    public ConvertedState ConvertPlan(JsonElement planJson, string dotGraph)
    {
        ArgumentNullException.ThrowIfNull(dotGraph);
        var resources = new List<TerraformResource>();
        if (planJson.ValueKind == JsonValueKind.Object)
        {
            if (planJson.TryGetProperty("planned_values", out var planned)
                && planned.ValueKind == JsonValueKind.Object
                && planned.TryGetProperty("root_module", out var plannedRoot))
            {
                TerraformResource.ReadModule(plannedRoot, resources);
            }

            if (planJson.TryGetProperty("prior_state", out var prior)
                && prior.ValueKind == JsonValueKind.Object
                && prior.TryGetProperty("values", out var priorValues)
                && priorValues.ValueKind == JsonValueKind.Object
                && priorValues.TryGetProperty("root_module", out var priorRoot))
            {
                TerraformResource.ReadModule(priorRoot, resources);
            }
        }

        return Convert(resources, dotGraph);
    }

    private static ConvertedState Convert(List<TerraformResource> resources, string dotGraph)
    {
        TerraformGraph graph;
        try
        {
            graph = TerraformGraph.Parse(dotGraph);
        }
        catch (FormatException exception)
        {
            throw new StateConversionException($"parse graph: {exception.Message}", exception);
        }

        return new StateConversion(resources, graph).Run();
    }
}
