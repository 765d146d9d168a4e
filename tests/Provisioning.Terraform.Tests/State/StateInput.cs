using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Provisioning.Terraform.Tests.State;

/// <summary>Small hand-written <c>terraform show -json</c> documents and graphs for converter tests.</summary>
internal static class StateInput
{
    /// <summary>A resource entry; type and name come from the address (<c>module.x.data.t.n[0]</c>).</summary>
    public static JsonObject Resource(string address, object? values = null)
    {
        var segments = address.Split('.');
        var withoutIndex = segments.Select(segment => segment.Split('[')[0]).ToArray();
        var isData = withoutIndex.Length >= 3 && withoutIndex[^3] == "data";
        return new JsonObject
        {
            ["address"] = address,
            ["mode"] = isData ? "data" : "managed",
            ["type"] = withoutIndex[^2],
            ["name"] = withoutIndex[^1],
            ["values"] = JsonSerializer.SerializeToNode(values ?? new { }),
        };
    }

    /// <summary>The root of <c>terraform show -json</c> of a state whose root module holds <paramref name="resources"/>.</summary>
    public static JsonElement StateJson(params JsonObject[] resources) => StateJson(resources, []);

    public static JsonElement StateJson(JsonObject[] resources, JsonObject[] childModules) =>
        JsonSerializer.SerializeToElement(new JsonObject
        {
            ["format_version"] = "1.0",
            ["values"] = new JsonObject { ["root_module"] = Module(resources, childModules) },
        });

    public static JsonObject Module(JsonObject[] resources, JsonObject[]? childModules = null, string? address = null)
    {
        var module = new JsonObject { ["resources"] = new JsonArray([.. resources]) };
        if (address is not null)
        {
            module["address"] = address;
        }

        if (childModules is { Length: > 0 })
        {
            module["child_modules"] = new JsonArray([.. childModules]);
        }

        return module;
    }

    /// <summary>The root of <c>terraform show -json</c> of a plan: planned values and, optionally, a prior state.</summary>
    public static JsonElement PlanJson(JsonObject[] planned, JsonObject[]? prior = null)
    {
        var plan = new JsonObject
        {
            ["format_version"] = "1.2",
            ["planned_values"] = new JsonObject { ["root_module"] = Module(planned) },
        };
        if (prior is not null)
        {
            plan["prior_state"] = new JsonObject { ["values"] = new JsonObject { ["root_module"] = Module(prior) } };
        }

        return JsonSerializer.SerializeToElement(plan);
    }

    /// <summary>
    /// A graph in the style of <c>terraform graph -type=plan</c>: one node per address, and edges given as
    /// "dependent -> dependency" pairs of addresses.
    /// </summary>
    public static string Graph(IEnumerable<string> addresses, params (string From, string To)[] edges)
    {
        var dot = new StringBuilder("digraph {\n\tcompound = \"true\"\n\tsubgraph \"root\" {\n");
        foreach (var address in addresses)
        {
            dot.Append($"\t\t\"[root] {address} (expand)\" [label = \"{address}\", shape = \"box\"]\n");
        }

        foreach (var (from, to) in edges)
        {
            dot.Append($"\t\t\"[root] {from} (expand)\" -> \"[root] {to} (expand)\"\n");
        }

        return dot.Append("\t}\n}\n").ToString();
    }
}
