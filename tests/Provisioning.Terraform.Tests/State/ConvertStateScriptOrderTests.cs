using System.Text.Json;
using System.Text.Json.Nodes;

using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.State;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.State;

/// <summary>
/// <c>coder_script_order</c> (provider v2.20.0) on the corpus case with two agents and three scripts
/// (multiple-agents-multiple-scripts: script1 and script2 run on dev1, script3 on dev2), with the data source added to
/// the recorded state or plan as Terraform writes it. Messages are the reference's (provisioner/terraform/scriptorder).
/// </summary>
public sealed class ConvertStateScriptOrderTests
{
    private const string Fixture = "multiple-agents-multiple-scripts";
    private const string DataSource = "data.coder_script_order.startup";

    private static readonly StateConverter Converter = new();

    [Fact]
    public void ConvertState_RuleOnOneAgent_TheRunScriptWaitsForTheAfterScript()
    {
        // Arrange
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"]));

        // Act
        var converted = Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph);

        // Assert
        var scripts = ScriptsByAddress(converted);
        Assert.Empty(scripts["coder_script.script1"].Dependencies);
        Assert.Empty(scripts["coder_script.script3"].Dependencies);
        var dependency = Assert.Single(scripts["coder_script.script2"].Dependencies);
        Assert.Equal("coder_script.script1", dependency.PrerequisiteResourceAddress);
        Assert.Equal(ScriptDependencyRequirement.Success, dependency.Requirement);
    }

    [Fact]
    public void ConvertState_RequiresCompletion_IsCarriedOnTheDependency()
    {
        // Arrange
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script1"], ["coder_script.script2"], requires: "completion"));

        // Act
        var converted = Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph);

        // Assert
        var dependency = Assert.Single(ScriptsByAddress(converted)["coder_script.script1"].Dependencies);
        Assert.Equal(("coder_script.script2", ScriptDependencyRequirement.Completion), (dependency.PrerequisiteResourceAddress, dependency.Requirement));
    }

    [Fact]
    public void ConvertPlan_RuleInThePriorState_TheRunScriptWaitsForTheAfterScript()
    {
        // Arrange: a plan keeps the data sources it read in its prior state (as it does coder_parameter).
        var folder = Path.Combine(SharedFolder.Require("fixtures/coder-resources"), Fixture);
        var plan = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, Fixture + ".tfplan.json")))!;
        var graph = File.ReadAllText(Path.Combine(folder, Fixture + ".tfstate.dot"));
        plan["prior_state"] ??= new JsonObject { ["format_version"] = "1.0", ["values"] = new JsonObject { ["root_module"] = new JsonObject { ["resources"] = new JsonArray() } } };
        var priorRoot = plan["prior_state"]!["values"]!["root_module"]!.AsObject();
        priorRoot["resources"] ??= new JsonArray();
        AddScriptOrder(priorRoot["resources"]!.AsArray(), Rule(["coder_script.script2"], ["coder_script.script1"]));

        // Act
        var converted = Converter.ConvertPlan(JsonSerializer.SerializeToElement(plan), graph);

        // Assert
        var dependency = Assert.Single(ScriptsByAddress(converted)["coder_script.script2"].Dependencies);
        Assert.Equal("coder_script.script1", dependency.PrerequisiteResourceAddress);
    }

    [Fact]
    public void ConvertState_TwoRulesOnTheSamePair_KeepOneDependency()
    {
        // Arrange: two data sources say the same thing.
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"]));
        AddScriptOrder(RootResources(state), "again", Rule(["coder_script.script2"], ["coder_script.script1"]));

        // Act
        var converted = Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph);

        // Assert
        Assert.Single(ScriptsByAddress(converted)["coder_script.script2"].Dependencies);
    }

    [Fact]
    public void ConvertState_RuleAcrossAgents_ThrowsTheReferenceMessage()
    {
        // Arrange: script3 runs on dev2, script1 on dev1.
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script3"], ["coder_script.script1"]));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(
            "resolve script order: script order data source \"data.coder_script_order.startup\" rule 0: "
            + "selector \"coder_script.script1\" expands to script \"coder_script.script1\" executed by \"coder_agent.dev1\", but "
            + "selector \"coder_script.script3\" expands to script \"coder_script.script3\" executed by \"coder_agent.dev2\"; "
            + "scripts can be ordered only within the same agent or devcontainer subagent",
            exception.Message);
    }

    [Fact]
    public void ConvertState_RulesMakingACycle_ThrowsTheCycleWithTheRulesThatMadeIt()
    {
        // Arrange
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"]), Rule(["coder_script.script1"], ["coder_script.script2"]));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(
            "build script order graphs: script order dependency cycle: coder_script.script1 -> coder_script.script2 -> coder_script.script1; cycle edges: "
            + "\"coder_script.script2\" after \"coder_script.script1\" from run selector \"coder_script.script2\" and after selector \"coder_script.script1\" (data source \"data.coder_script_order.startup\" rule 0); "
            + "\"coder_script.script1\" after \"coder_script.script2\" from run selector \"coder_script.script1\" and after selector \"coder_script.script2\" (data source \"data.coder_script_order.startup\" rule 1)",
            exception.Message);
    }

    [Fact]
    public void ConvertState_SameEdgeWithDifferentRequires_ThrowsTheConflict()
    {
        // Arrange
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"]), Rule(["coder_script.script2"], ["coder_script.script1"], requires: "completion"));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(
            "build script order graphs: script order data source \"data.coder_script_order.startup\" rule 1: run selector \"coder_script.script2\" and after selector \"coder_script.script1\" "
            + "declare script \"coder_script.script2\" after \"coder_script.script1\" with requires \"completion\", conflicting with requires \"success\" from data source \"data.coder_script_order.startup\" rule 0",
            exception.Message);
    }

    [Theory]
    [InlineData(
        new[] { "coder_script.script1" }, new[] { "coder_script.script1", "coder_script.script2" },
        "resolve script order: script order data source \"data.coder_script_order.startup\" rule 0: run selector \"coder_script.script1\" and after selector \"coder_script.script1\" both select script \"coder_script.script1\"; a script cannot depend on itself")]
    [InlineData(
        new[] { "coder_script.missing" }, new[] { "coder_script.script1" },
        "script order data source \"data.coder_script_order.startup\" rule 0: run selector \"coder_script.missing\" does not name a declared coder_script resource")]
    [InlineData(
        new[] { "coder_script.script2[3]" }, new[] { "coder_script.script1" },
        "script order data source \"data.coder_script_order.startup\" rule 0: run selector \"coder_script.script2[3]\" expanded to no coder_script resources")]
    [InlineData(
        new[] { "coder_script.script2" }, new[] { "module.bootstrap" },
        "script order data source \"data.coder_script_order.startup\" rule 0: after selector \"module.bootstrap\" does not name a declared child module call")]
    [InlineData(
        new[] { "coder_script.script2" }, new[] { "module.bootstrap[0]" },
        "script order data source \"data.coder_script_order.startup\" rule 0: invalid after selector \"module.bootstrap[0]\": module selector \"module.bootstrap[0]\" must select all module instances")]
    [InlineData(
        new[] { "coder_agent.dev1" }, new[] { "coder_script.script1" },
        "script order data source \"data.coder_script_order.startup\" rule 0: invalid run selector \"coder_agent.dev1\": script order selector \"coder_agent.dev1\" must select a coder_script or module")]
    [InlineData(
        new[] { "module.a.coder_script.x" }, new[] { "coder_script.script1" },
        "script order data source \"data.coder_script_order.startup\" rule 0: invalid run selector \"module.a.coder_script.x\": script order selector \"module.a.coder_script.x\" must reference a coder_script in the declaring module or an entire direct child module call")]
    [InlineData(
        new string[0], new[] { "coder_script.script1" },
        "script order data source \"data.coder_script_order.startup\" rule 0: run must contain at least one selector")]
    public void ConvertState_BadRule_ThrowsTheReferenceMessageAndAttachesNothing(string[] run, string[] after, string expected)
    {
        // Arrange
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(run, after));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(expected, exception.Message);
    }

    [Fact]
    public void ConvertState_StartScriptAfterStopScript_ThrowsThatPhasesCannotMix()
    {
        // Arrange: script2 becomes a shutdown script.
        var (state, graph) = LoadState();
        var script2 = RootResources(state).Single(resource => (string?)resource!["address"] == "coder_script.script2")!;
        script2["values"]!["run_on_start"] = false;
        script2["values"]!["run_on_stop"] = true;
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"]));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(
            "script order data source \"data.coder_script_order.startup\" rule 0: after selector \"coder_script.script1\" selects start script \"coder_script.script1\", "
            + "but run selector \"coder_script.script2\" selects stop script \"coder_script.script2\"; coder_script resource selectors cannot mix start and stop scripts",
            exception.Message);
    }

    [Fact]
    public void ConvertState_DeclaredPhaseOtherThanTheScripts_ThrowsTheMismatch()
    {
        // Arrange
        var (state, graph) = LoadState();
        AddScriptOrder(RootResources(state), Rule(["coder_script.script2"], ["coder_script.script1"], phase: "stop"));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(JsonSerializer.SerializeToElement(state), graph));

        // Assert
        Assert.Equal(
            "script order data source \"data.coder_script_order.startup\" rule 0: run selector \"coder_script.script2\" selects start script \"coder_script.script2\", but the rule phase is \"stop\"",
            exception.Message);
    }

    internal static (JsonNode State, string Graph) LoadState()
    {
        var folder = Path.Combine(SharedFolder.Require("fixtures/coder-resources"), Fixture);
        return (JsonNode.Parse(File.ReadAllText(Path.Combine(folder, Fixture + ".tfstate.json")))!, File.ReadAllText(Path.Combine(folder, Fixture + ".tfstate.dot")));
    }

    internal static JsonArray RootResources(JsonNode state) => state["values"]!["root_module"]!["resources"]!.AsArray();

    internal static void AddScriptOrder(JsonArray resources, params JsonObject[] rules) => AddScriptOrder(resources, "startup", rules);

    /// <summary>A coder_script_order data source as the provider stores it: an id, and each rule with its defaults filled.</summary>
    internal static void AddScriptOrder(JsonArray resources, string name, params JsonObject[] rules) =>
        resources.Add(new JsonObject
        {
            ["address"] = $"data.coder_script_order.{name}",
            ["mode"] = "data",
            ["type"] = "coder_script_order",
            ["name"] = name,
            ["provider_name"] = "registry.terraform.io/coder/coder",
            ["schema_version"] = 0,
            ["values"] = new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["rule"] = new JsonArray([.. rules]) },
            ["sensitive_values"] = new JsonObject(),
        });

    internal static JsonObject Rule(string[] run, string[] after, string requires = "success", string phase = "") => new()
    {
        ["run"] = new JsonArray([.. run.Select(selector => (JsonNode)selector)]),
        ["after"] = new JsonArray([.. after.Select(selector => (JsonNode)selector)]),
        ["requires"] = requires,
        ["phase"] = phase,
    };

    internal static Dictionary<string, Script> ScriptsByAddress(ConvertedState converted) =>
        converted.Resources.SelectMany(resource => resource.Agents)
            .SelectMany(agent => agent.Scripts.Concat(agent.Devcontainers.SelectMany(devcontainer => devcontainer.Scripts)))
            .Where(script => script.ResourceAddress.Length > 0)
            .ToDictionary(script => script.ResourceAddress);
}
