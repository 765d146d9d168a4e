using System.Text.Json;
using System.Text.Json.Nodes;

using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.State;
using Provisioning.Testing;

using static Provisioning.Terraform.Tests.State.ConvertStateScriptOrderTests;

namespace Provisioning.Terraform.Tests.State;

/// <summary>
/// <c>coder_devcontainer</c> sub-agents on the corpus case multiple-agents-multiple-scripts: a devcontainer is added to
/// agent dev1 and script2 (plus an app and an environment variable) is pointed at its <c>subagent_id</c>, as in the
/// reference's devcontainer-resources case; the devcontainer takes them, the agent keeps the rest.
/// </summary>
public sealed class ConvertStateDevcontainerTests
{
    private const string Dev1Id = "9d9c16e7-5828-4ca4-9c9d-ba4b61d2b0db";
    private const string SubagentId = "4caa8ad6-8f8d-4c0f-9a8c-64f28bfc6cf0";
    private const string DevcontainerId = "eb9b7f18-c277-48af-af7c-2a8e5fb42bab";

    private static readonly StateConverter Converter = new();

    [Fact]
    public void ConvertState_ResourcesOnTheSubagent_BelongToTheDevcontainerNotTheAgent()
    {
        // Arrange
        var (state, graph) = StateWithDevcontainer();

        // Act
        var converted = Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph);

        // Assert
        var dev1 = converted.Resources.SelectMany(resource => resource.Agents).Single(agent => agent.Name == "dev1");
        Assert.Equal(["coder_script.script1"], dev1.Scripts.Select(script => script.ResourceAddress));
        Assert.Empty(dev1.Apps);
        Assert.Empty(dev1.ExtraEnvs);
        var devcontainer = Assert.Single(dev1.Devcontainers);
        Assert.Equal(("dev", "/workspace", "/workspace/.devcontainer/devcontainer.json"), (devcontainer.Name, devcontainer.WorkspaceFolder, devcontainer.ConfigPath));
        Assert.Equal((DevcontainerId, SubagentId), (devcontainer.Id, devcontainer.SubagentId));
        Assert.Equal(["coder_script.script2"], devcontainer.Scripts.Select(script => script.ResourceAddress));
        Assert.Equal("devcontainer-app", Assert.Single(devcontainer.Apps).Slug);
        var env = Assert.Single(devcontainer.Envs);
        Assert.Equal(("DEVCONTAINER_ENV", "devcontainer-value"), (env.Name, env.Value));

        // The coder_devcontainer itself is a resource of the workspace, as in the reference's goldens.
        Assert.Contains(converted.Resources, resource => resource is { Type: "coder_devcontainer", Name: "dev" });
    }

    [Fact]
    public void ConvertPlan_ResourceWithAnEdgeToTheDevcontainer_BelongsToTheDevcontainer()
    {
        // Arrange: in a plan both ids are unknown, so the graph decides: script2 references the devcontainer, not the agent.
        var folder = Path.Combine(SharedFolder.Require("fixtures/coder-resources"), "multiple-agents-multiple-scripts");
        var plan = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "multiple-agents-multiple-scripts.tfplan.json")))!;
        plan["planned_values"]!["root_module"]!["resources"]!.AsArray().Add(Devcontainer(agentId: null, subagentId: null, id: null));
        var graph = File.ReadAllText(Path.Combine(folder, "multiple-agents-multiple-scripts.tfstate.dot"))
            .Replace(
                "\"[root] coder_script.script2 (expand)\" -> \"[root] coder_agent.dev1 (expand)\"",
                "\"[root] coder_script.script2 (expand)\" -> \"[root] coder_devcontainer.dev (expand)\"\n"
                + "\t\t\"[root] coder_devcontainer.dev (expand)\" -> \"[root] coder_agent.dev1 (expand)\"\n"
                + "\t\t\"[root] coder_devcontainer.dev (expand)\" [label = \"coder_devcontainer.dev\", shape = \"box\"]",
                StringComparison.Ordinal);

        // Act
        var converted = Converter.ConvertPlan(JsonSerializer.SerializeToElement(plan), graph);

        // Assert
        var dev1 = converted.Resources.SelectMany(resource => resource.Agents).Single(agent => agent.Name == "dev1");
        Assert.Equal(["coder_script.script1"], dev1.Scripts.Select(script => script.ResourceAddress));
        var devcontainer = Assert.Single(dev1.Devcontainers);
        Assert.Equal(("", ""), (devcontainer.Id, devcontainer.SubagentId));
        Assert.Equal(["coder_script.script2"], devcontainer.Scripts.Select(script => script.ResourceAddress));
    }

    [Fact]
    public void ConvertState_OrderWithinTheSubagent_IsCarriedOnTheDevcontainersScript()
    {
        // Arrange: script4 also runs on the sub-agent, after script2.
        var (state, graph) = StateWithDevcontainer();
        RootResources(state).Add(Script("script4", SubagentId));
        graph = graph.Replace(
            "\"[root] coder_script.script3 (expand)\" [label",
            "\"[root] coder_script.script4 (expand)\" [label = \"coder_script.script4\", shape = \"box\"]\n\t\t\"[root] coder_script.script3 (expand)\" [label",
            StringComparison.Ordinal);
        AddScriptOrder(RootResources(state), Rule(["coder_script.script4"], ["coder_script.script2"]));

        // Act
        var converted = Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph);

        // Assert
        var devcontainer = converted.Resources.SelectMany(resource => resource.Agents).SelectMany(agent => agent.Devcontainers).Single();
        var script4 = devcontainer.Scripts.Single(script => script.ResourceAddress == "coder_script.script4");
        Assert.Equal("coder_script.script2", Assert.Single(script4.Dependencies).PrerequisiteResourceAddress);
    }

    [Fact]
    public void ConvertState_OrderBetweenTheAgentAndItsSubagent_ThrowsTheReferenceMessage()
    {
        // Arrange: script2 runs on the sub-agent, script1 on the agent that starts it.
        var (state, graph) = StateWithDevcontainer();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"]));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(
            "resolve script order: script order data source \"data.coder_script_order.startup\" rule 0: "
            + "selector \"coder_script.script1\" expands to script \"coder_script.script1\" executed by \"coder_agent.dev1\", but "
            + "selector \"coder_script.script2\" expands to script \"coder_script.script2\" executed by \"coder_devcontainer.dev\"; "
            + "scripts can be ordered only within the same agent or devcontainer subagent",
            exception.Message);
    }

    /// <summary>The corpus state with coder_devcontainer.dev on dev1, and script2, an app and an env on its sub-agent.</summary>
    private static (JsonNode State, string Graph) StateWithDevcontainer()
    {
        var (state, graph) = LoadState();
        var resources = RootResources(state);
        resources.Single(resource => (string?)resource!["address"] == "coder_script.script2")!["values"]!["agent_id"] = SubagentId;
        resources.Add(Devcontainer(Dev1Id, SubagentId, DevcontainerId));
        resources.Add(Managed("coder_app", "devcontainer-app", new JsonObject
        {
            ["agent_id"] = SubagentId, ["slug"] = "devcontainer-app", ["id"] = Guid.NewGuid().ToString(), ["open_in"] = "slim-window", ["share"] = "owner",
        }));
        resources.Add(Managed("coder_env", "devcontainer-env", new JsonObject
        {
            ["agent_id"] = SubagentId, ["name"] = "DEVCONTAINER_ENV", ["value"] = "devcontainer-value", ["id"] = Guid.NewGuid().ToString(),
        }));
        return (state, graph);
    }

    private static JsonObject Devcontainer(string? agentId, string? subagentId, string? id)
    {
        var values = new JsonObject { ["workspace_folder"] = "/workspace", ["config_path"] = "/workspace/.devcontainer/devcontainer.json" };
        foreach (var (name, value) in new[] { ("agent_id", agentId), ("subagent_id", subagentId), ("id", id) })
        {
            if (value is not null)
            {
                values[name] = value;
            }
        }

        return Managed("coder_devcontainer", "dev", values);
    }

    private static JsonObject Script(string name, string agentId) => Managed("coder_script", name, new JsonObject
    {
        ["agent_id"] = agentId, ["display_name"] = name, ["script"] = "echo " + name, ["run_on_start"] = true, ["run_on_stop"] = false, ["id"] = Guid.NewGuid().ToString(),
    });

    private static JsonObject Managed(string type, string name, JsonObject values) => new()
    {
        ["address"] = $"{type}.{name}",
        ["mode"] = "managed",
        ["type"] = type,
        ["name"] = name,
        ["provider_name"] = "registry.terraform.io/coder/coder",
        ["schema_version"] = 1,
        ["values"] = values,
        ["sensitive_values"] = new JsonObject(),
    };
}
