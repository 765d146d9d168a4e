using System.Text.Json;

using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.State;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.CoderProvider;

/// <summary>
/// <c>coder_script_order</c> and <c>coder_devcontainer</c> through real Terraform and the coder test provider: the
/// provider accepts and stores them as the real one does, and the converter reads the plan and the state Terraform
/// writes into script dependencies and devcontainer sub-agents (docs/decisions/0018-script-order-and-devcontainers.md).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class ScriptOrderAndDevcontainerTests
{
    private const string Template = CoderTemplateText.RequiredProviders + """
        resource "coder_agent" "main" {
          os   = "linux"
          arch = "amd64"
        }

        resource "coder_agent" "other" {
          os   = "linux"
          arch = "amd64"
        }

        resource "terraform_data" "main" {
          input = coder_agent.main.id
        }

        resource "terraform_data" "other" {
          input = coder_agent.other.id
        }

        resource "coder_script" "elsewhere" {
          agent_id     = coder_agent.other.id
          display_name = "Elsewhere"
          script       = "echo elsewhere"
          run_on_start = true
        }
        """ + CoderTemplateText.OrderedScriptsAndDevcontainer;

    [Fact(Timeout = 300_000)]
    public async Task ScriptOrderAndDevcontainer_PlannedAndApplied_ConvertToDependenciesAndSubagentResources()
    {
        // Arrange
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(Template);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act: convert the saved plan (ids unknown: the graph decides) and then the state after applying it.
        await run.SucceedAsync(["plan", "-input=false", "-no-color", "-out=plan.out"], cancellationToken: cancellationToken);
        var planJson = await run.SucceedAsync(["show", "-json", "plan.out"], cancellationToken: cancellationToken);
        var graph = await run.SucceedAsync(["graph", "-type=plan"], cancellationToken: cancellationToken);
        using var plan = JsonDocument.Parse(planJson);
        var planned = new StateConverter().ConvertPlan(plan.RootElement, graph);
        await run.SucceedAsync(["apply", "-input=false", "-no-color", "plan.out"], cancellationToken: cancellationToken);
        var stateJson = await run.SucceedAsync(["show", "-json"], cancellationToken: cancellationToken);
        using var state = JsonDocument.Parse(stateJson);
        var applied = new StateConverter().ConvertState(state.RootElement, graph);
        var resources = await run.StateAsync(cancellationToken);

        // Assert: the provider stored the rules with their defaults and gave the devcontainer a sub-agent id.
        var rules = resources["data.coder_script_order.startup"].GetProperty("rule");
        Assert.Equal("success", rules[0].GetProperty("requires").GetString());
        Assert.Equal("completion", rules[1].GetProperty("requires").GetString());
        var subagentId = resources["coder_devcontainer.dev"].GetProperty("subagent_id").GetString();
        Assert.True(Guid.TryParse(subagentId, out _), subagentId);
        Assert.Equal(subagentId, resources["coder_script.dc_run"].GetProperty("agent_id").GetString());

        foreach (var (converted, step) in new[] { (planned, "plan"), (applied, "state") })
        {
            var main = converted.Resources.SelectMany(resource => resource.Agents).Single(agent => agent.Name == "main");
            Assert.Equal(["coder_script.clone", "coder_script.install"], main.Scripts.Select(script => script.ResourceAddress).Order(StringComparer.Ordinal));
            var install = main.Scripts.Single(script => script.ResourceAddress == "coder_script.install");
            Assert.Equal([("coder_script.clone", ScriptDependencyRequirement.Success)], install.Dependencies.Select(Pair));
            Assert.Empty(main.Scripts.Single(script => script.ResourceAddress == "coder_script.clone").Dependencies);

            var devcontainer = Assert.Single(main.Devcontainers);
            Assert.Equal(("dev", "/workspace", "/workspace/.devcontainer/devcontainer.json"), (devcontainer.Name, devcontainer.WorkspaceFolder, devcontainer.ConfigPath));
            Assert.Equal(step == "state" ? subagentId : "", devcontainer.SubagentId);
            Assert.Equal("dc-app", Assert.Single(devcontainer.Apps).Slug);
            Assert.Equal("IN_DEVCONTAINER", Assert.Single(devcontainer.Envs).Name);
            var dcRun = devcontainer.Scripts.Single(script => script.ResourceAddress == "coder_script.dc_run");
            Assert.Equal([("coder_script.dc_setup", ScriptDependencyRequirement.Completion)], dcRun.Dependencies.Select(Pair));
            Assert.Empty(main.Apps);
            Assert.Empty(main.ExtraEnvs);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task RuleOfAnAgentNoResourceHolds_StopPlan_IsAcceptedAndReportsNoAgent()
    {
        // Arrange: Coder's usual shape: the agent's compute exists only while started (count = start_count), so in the
        // plan of a stop (the import's stop phase, a stop or delete build) no resource holds the agent.
        const string stopTemplate = CoderTemplateText.RequiredProviders + """
            data "coder_workspace" "me" {}

            resource "coder_agent" "main" {
              os   = "linux"
              arch = "amd64"
            }

            resource "terraform_data" "box" {
              count = data.coder_workspace.me.start_count
              input = coder_agent.main.id
            }

            resource "coder_script" "setup" {
              agent_id     = coder_agent.main.id
              display_name = "Setup"
              script       = "echo setup"
              run_on_start = true
            }

            resource "coder_script" "install" {
              agent_id     = coder_agent.main.id
              display_name = "Install"
              script       = "echo install"
              run_on_start = true
            }

            data "coder_script_order" "startup" {
              rule {
                run   = ["coder_script.install"]
                after = ["coder_script.setup"]
              }
            }
            """;
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(stopTemplate);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        var stop = new Dictionary<string, string?> { ["CODER_WORKSPACE_TRANSITION"] = "stop" };
        await run.SucceedAsync(["plan", "-input=false", "-no-color", "-out=plan.out"], stop, cancellationToken);
        var planJson = await run.SucceedAsync(["show", "-json", "plan.out"], cancellationToken: cancellationToken);
        var graph = await run.SucceedAsync(["graph", "-type=plan"], cancellationToken: cancellationToken);
        using var plan = JsonDocument.Parse(planJson);

        // Act: the rule's scripts run on coder_agent.main, which no resource holds in this plan.
        var converted = new StateConverter().ConvertPlan(plan.RootElement, graph);

        // Assert: accepted (it once failed every stop and delete of such a template); nothing reports the agent.
        Assert.Empty(converted.Resources.SelectMany(resource => resource.Agents));
    }

    [Fact(Timeout = 300_000)]
    public async Task RuleAcrossAgents_AppliedByTerraform_IsRejectedByTheConverterWithTheReferenceMessage()
    {
        // Arrange: the provider does not look into selectors (Coder resolves them at import), so apply succeeds.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(Template.Replace("""after = ["coder_script.clone"]""", """after = ["coder_script.elsewhere"]""", StringComparison.Ordinal));
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        await run.SucceedAsync(["apply", "-auto-approve", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        var stateJson = await run.SucceedAsync(["show", "-json"], cancellationToken: cancellationToken);
        var graph = await run.SucceedAsync(["graph", "-type=plan"], cancellationToken: cancellationToken);
        using var state = JsonDocument.Parse(stateJson);

        // Act
        var exception = Assert.Throws<StateConversionException>(() => new StateConverter().ConvertState(state.RootElement, graph));

        // Assert
        Assert.Equal(
            "resolve script order: script order data source \"data.coder_script_order.startup\" rule 0: "
            + "selector \"coder_script.elsewhere\" expands to script \"coder_script.elsewhere\" executed by \"coder_agent.other\", but "
            + "selector \"coder_script.install\" expands to script \"coder_script.install\" executed by \"coder_agent.main\"; "
            + "scripts can be ordered only within the same agent or devcontainer subagent",
            exception.Message);
    }

    [Fact(Timeout = 300_000)]
    public async Task BadScriptOrderAndDevcontainer_OnPlan_FailWithTheRealProvidersChecks()
    {
        // Arrange
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(CoderTemplateText.RequiredProviders + """
            data "coder_script_order" "no_run" {
              rule {
                run   = []
                after = ["coder_script.a"]
              }
            }

            data "coder_script_order" "bad_requires" {
              rule {
                run      = ["coder_script.b"]
                after    = ["coder_script.a"]
                requires = "always"
              }
            }

            data "coder_script_order" "bad_phase" {
              rule {
                run   = ["coder_script.b"]
                after = ["coder_script.a"]
                phase = "boot"
              }
            }

            resource "coder_devcontainer" "no_folder" {
              agent_id         = "a"
              workspace_folder = ""
            }
            """);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        var (exitCode, output, _) = await run.RunAsync(["plan", "-input=false", "-json"], cancellationToken: cancellationToken);

        // Assert
        Assert.Equal(1, exitCode);
        var summaries = ErrorSummaries(output);
        Assert.Contains("run: attribute supports 1 item minimum, config has 0 declared", summaries);
        Assert.Contains("expected requires to be one of [\"success\" \"completion\"], got always", summaries);
        Assert.Contains("expected phase to be one of [\"start\" \"stop\"], got boot", summaries);
        Assert.Contains("expected \"workspace_folder\" to not be an empty string, got ", summaries);
    }

    [Fact(Timeout = 300_000)]
    public async Task ScriptOrderWithoutARule_OnValidate_FailsInTerraformItself()
    {
        // Arrange: `rule` is a required block (MinItems 1), which Terraform checks from the schema.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(CoderTemplateText.RequiredProviders + """
            data "coder_script_order" "empty" {}
            """);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        var (exitCode, output, errors) = await run.RunAsync(["validate", "-no-color"], cancellationToken: cancellationToken);

        // Assert
        Assert.Equal(1, exitCode);
        Assert.Contains("Insufficient rule blocks", output + errors, StringComparison.Ordinal);
    }

    private static (string, ScriptDependencyRequirement) Pair(ScriptDependency dependency) => (dependency.PrerequisiteResourceAddress, dependency.Requirement);

    private static List<string> ErrorSummaries(string jsonLines)
    {
        var summaries = new List<string>();
        foreach (var line in jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("diagnostic", out var diagnostic) && diagnostic.GetProperty("severity").GetString() == "error")
            {
                summaries.Add(diagnostic.GetProperty("summary").GetString()!);
            }
        }

        return summaries;
    }
}
