using System.Text.Json;

using Provisioning.Daemon.Tests.Support;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;
using Provisioning.Testing;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// A Coder-style template (parameters with validation, an agent with apps, a script, an env and metadata, workspace
/// tags, two presets) through real Terraform with the coder test provider installed from a filesystem mirror, as a
/// real daemon runs it (sandboxed when PROVISIONING_TEST_SANDBOX says so): what the daemon reports of the import, and
/// a workspace created, inspected and deleted through the real coordinator's API.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class CoderTemplateEndToEndTests(TerraformCacheFixture terraform, FleetCoordinatorFixture fixture) : IClassFixture<FleetCoordinatorFixture>
{
    private const string CoderTemplate = """
        terraform {
          required_providers {
            coder = {
              source  = "coder/coder"
              version = ">= 2.0.0"
            }
          }
        }

        data "coder_provisioner" "me" {}
        data "coder_workspace" "me" {}
        data "coder_workspace_owner" "me" {}

        data "coder_parameter" "region" {
          name         = "region"
          display_name = "Region"
          description  = "Where the workspace runs."
          default      = "eu"
          order        = 1
          option {
            name  = "Europe"
            value = "eu"
          }
          option {
            name  = "United States"
            value = "us"
          }
        }

        data "coder_parameter" "cpus" {
          name    = "cpus"
          type    = "number"
          default = 2
          mutable = true
          order   = 2
          validation {
            min       = 1
            max       = 8
            monotonic = "increasing"
          }
        }

        data "coder_parameter" "project" {
          name    = "project"
          default = "demo"
          mutable = true
          validation {
            regex = "^[a-z]+$"
            error = "Lowercase letters only."
          }
        }

        data "coder_workspace_tags" "routing" {
          tags = {
            "region" = data.coder_parameter.region.value
          }
        }

        data "coder_workspace_preset" "small" {
          name = "Small"
          parameters = {
            region = "eu"
            cpus   = "2"
          }
        }

        data "coder_workspace_preset" "large" {
          name        = "Large"
          description = "Eight cores"
          icon        = "/icon/rocket.svg"
          default     = true
          parameters = {
            cpus = "8"
          }
          prebuilds {
            instances = 1
            expiration_policy {
              ttl = 86400
            }
            scheduling {
              timezone = "UTC"
              schedule {
                cron      = "* 8-18 * * 1-5"
                instances = 3
              }
            }
          }
        }

        resource "coder_agent" "main" {
          os             = data.coder_provisioner.me.os
          arch           = data.coder_provisioner.me.arch
          startup_script = "echo ${data.coder_parameter.cpus.value} cpus"
          metadata {
            key          = "load"
            display_name = "Load"
            script       = "uptime"
            interval     = 10
            timeout      = 1
          }
          display_apps {
            vscode = false
          }
        }

        resource "coder_app" "web" {
          agent_id     = coder_agent.main.id
          slug         = "web"
          display_name = "Web"
          url          = "http://localhost:8080"
          share        = "authenticated"
          healthcheck {
            url       = "http://localhost:8080/healthz"
            interval  = 5
            threshold = 6
          }
        }

        resource "coder_app" "shell" {
          agent_id = coder_agent.main.id
          slug     = "shell"
          command  = "bash"
        }

        resource "coder_script" "setup" {
          agent_id           = coder_agent.main.id
          display_name       = "Setup"
          script             = "echo setup"
          run_on_start       = true
          start_blocks_login = true
        }

        resource "coder_env" "editor" {
          agent_id = coder_agent.main.id
          name     = "EDITOR"
          value    = "vim"
        }

        resource "terraform_data" "workspace" {
          count            = data.coder_workspace.me.start_count
          input            = "${data.coder_workspace_owner.me.name}-${data.coder_parameter.project.value}"
          triggers_replace = coder_agent.main.id
        }

        resource "coder_metadata" "workspace" {
          count       = data.coder_workspace.me.start_count
          resource_id = terraform_data.workspace[0].id
          daily_cost  = 5
          item {
            key   = "region"
            value = data.coder_parameter.region.value
          }
          item {
            key       = "password"
            value     = "s3cret"
            sensitive = true
          }
        }
        """;

    private FleetCoordinator Coordinator => fixture.Coordinator;

    [Fact(Timeout = 300_000)]
    public async Task CoderTemplate_ImportedByARealDaemon_ReportsParametersPresetsTagsAndAgent()
    {
        // Arrange: the daemon against a recording coordinator, so the import's report is seen exactly as sent.
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob { File = coordinator.AddFile(await Templates.PackAsync(CoderTemplate, cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, configureTerraform: UseCoderMirror);

        // Act
        var import = coordinator.Enqueue(Templates.Import(archive));
        var imported = (await import.WaitAsync(cancellationToken)).RequireCompleted(import.LogText).TemplateImport;

        // Assert: parameters as the coder provider declared them, with their validation.
        var parameters = imported.RichParameters.ToDictionary(parameter => parameter.Name);
        Assert.Equal(["cpus", "project", "region"], parameters.Keys.Order());
        var region = parameters["region"];
        Assert.Equal(("Region", "Where the workspace runs.", "string", "eu", false, 1), (region.DisplayName, region.Description, region.Type, region.DefaultValue, region.Mutable, region.Order));
        Assert.Equal(["eu", "us"], region.Options.Select(option => option.Value));
        Assert.Equal(["Europe", "United States"], region.Options.Select(option => option.Name));
        var cpus = parameters["cpus"];
        Assert.Equal(("number", "2", true, 1, 8, "increasing"), (cpus.Type, cpus.DefaultValue, cpus.Mutable, cpus.ValidationMin, cpus.ValidationMax, cpus.ValidationMonotonic));
        var project = parameters["project"];
        Assert.Equal(("^[a-z]+$", "Lowercase letters only.", false), (project.ValidationRegex, project.ValidationError, project.Required));
        Assert.False(project.HasValidationMin);

        // Presets, the workspace tags' expressions, and the agent with everything attached to it.
        var presets = imported.Presets.ToDictionary(preset => preset.Name);
        Assert.Equal(["Large", "Small"], presets.Keys.Order());
        Assert.True(presets["Large"].Default);
        Assert.Equal(1, presets["Large"].Prebuild.Instances);
        Assert.False(imported.HasExternalAgents);
        Assert.Equal(("Eight cores", "/icon/rocket.svg"), (presets["Large"].Description, presets["Large"].Icon));
        Assert.Equal(86400, presets["Large"].Prebuild.ExpirationPolicy.Ttl);
        Assert.Equal("UTC", presets["Large"].Prebuild.Scheduling.Timezone);
        Assert.Equal(("* 8-18 * * 1-5", 3), (presets["Large"].Prebuild.Scheduling.Schedule[0].Cron, presets["Large"].Prebuild.Scheduling.Schedule[0].Instances));
        Assert.Null(presets["Small"].Prebuild.ExpirationPolicy);
        Assert.Equal("8", Assert.Single(presets["Large"].Parameters).Value);
        Assert.Equal(["cpus=2", "region=eu"], presets["Small"].Parameters.Select(parameter => $"{parameter.Name}={parameter.Value}").Order());
        var tags = Assert.Single(import.Updates, update => update.WorkspaceTags.Count > 0).WorkspaceTags;
        Assert.Equal("data.coder_parameter.region.value", tags["region"]);
        var agent = imported.StartResources.SelectMany(resource => resource.Agents).Single();
        Assert.Equal(("main", "linux"), (agent.Name, agent.OperatingSystem));
        Assert.Equal(["shell", "web"], agent.Apps.Select(app => app.Slug).Order());
        // The agent's startup_script becomes a script of its own, as in Coder.
        Assert.Equal(["Setup", "Startup Script"], agent.Scripts.Select(script => script.DisplayName).Order());
        Assert.Equal("echo 2 cpus", agent.Scripts.Single(script => script.DisplayName == "Startup Script").Script_);
        Assert.Equal("EDITOR", Assert.Single(agent.ExtraEnvs).Name);
        Assert.Equal("load", Assert.Single(agent.Metadata).Key);
        Assert.False(agent.DisplayApps.Vscode);
        Assert.True(agent.DisplayApps.WebTerminal);
    }

    [Fact(Timeout = 300_000)]
    public async Task ExternalAgent_ImportedByARealDaemon_MarksTheVersionAndCarriesItsAgent()
    {
        // Arrange: an agent whose machine the template does not build, declared with coder_external_agent.
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob
        {
            File = coordinator.AddFile(await Templates.PackAsync(
                CoderTemplateText.RequiredProviders + """
                resource "coder_agent" "outside" {
                  os   = "linux"
                  arch = "amd64"
                }

                resource "coder_external_agent" "outside" {
                  agent_id = coder_agent.outside.id
                }
                """,
                cancellationToken)),
        };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, configureTerraform: UseCoderMirror);

        // Act
        var import = coordinator.Enqueue(Templates.Import(archive));
        var imported = (await import.WaitAsync(cancellationToken)).RequireCompleted(import.LogText).TemplateImport;

        // Assert: the version has external agents, and the agent sits on the coder_external_agent, as Coder attaches it.
        Assert.True(imported.HasExternalAgents);
        var resource = Assert.Single(imported.StartResources, resource => resource.Agents.Count > 0);
        Assert.Equal(("coder_external_agent", "outside"), (resource.Type, resource.Name));
        Assert.Equal("outside", Assert.Single(resource.Agents).Name);
    }

    [Fact(Timeout = 300_000)]
    public async Task ScriptOrderAndDevcontainer_ImportedByARealDaemon_CarryDependenciesAndTheSubagentsResources()
    {
        // Arrange: ordered scripts on an agent, and a devcontainer whose sub-agent has ordered scripts, an app and a variable.
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var archive = new Blob
        {
            File = coordinator.AddFile(await Templates.PackAsync(
                CoderTemplateText.RequiredProviders + """
                resource "coder_agent" "main" {
                  os   = "linux"
                  arch = "amd64"
                }

                resource "terraform_data" "box" {
                  input = coder_agent.main.id
                }
                """ + CoderTemplateText.OrderedScriptsAndDevcontainer,
                cancellationToken)),
        };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, configureTerraform: UseCoderMirror);

        // Act
        var import = coordinator.Enqueue(Templates.Import(archive));
        var imported = (await import.WaitAsync(cancellationToken)).RequireCompleted(import.LogText).TemplateImport;

        // Assert
        var agent = Assert.Single(imported.StartResources.SelectMany(resource => resource.Agents));
        var install = agent.Scripts.Single(script => script.ResourceAddress == "coder_script.install");
        var dependency = Assert.Single(install.Dependencies);
        Assert.Equal(("coder_script.clone", ScriptDependencyRequirement.Success), (dependency.PrerequisiteResourceAddress, dependency.Requirement));
        var devcontainer = Assert.Single(agent.Devcontainers);
        Assert.Equal(("dev", "/workspace"), (devcontainer.Name, devcontainer.WorkspaceFolder));
        Assert.Equal("dc-app", Assert.Single(devcontainer.Apps).Slug);
        Assert.Equal("IN_DEVCONTAINER", Assert.Single(devcontainer.Envs).Name);
        var run = devcontainer.Scripts.Single(script => script.ResourceAddress == "coder_script.dc_run");
        var runDependency = Assert.Single(run.Dependencies);
        Assert.Equal(("coder_script.dc_setup", ScriptDependencyRequirement.Completion), (runDependency.PrerequisiteResourceAddress, runDependency.Requirement));
        Assert.Equal(["coder_script.clone", "coder_script.install"], agent.Scripts.Select(script => script.ResourceAddress).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 300_000)]
    public async Task CoderTemplate_PushedCreatedAndDeleted_ThroughTheRealCoordinator_ShowsItsAgentAppsAndMetadata()
    {
        // Arrange: a daemon (tagged as the template's workspace tags would route) and the template pushed with its tags.
        var cancellationToken = TestContext.Current.CancellationToken;
        var tags = new Dictionary<string, string> { ["test"] = FleetCoordinator.UniqueName("coder"), ["region"] = "eu" };
        var (template, workspace) = (FleetCoordinator.UniqueName("coder"), FleetCoordinator.UniqueName("ws"));
        await using var daemon = Coordinator.StartDaemon(terraform.Directory, tags, configureTerraform: UseCoderMirror);

        // Act: push; the import must succeed and discover the parameters.
        await Coordinator.ImportTemplateAsync(template, CoderTemplate, tags, cancellationToken);
        var version = (await Coordinator.GetAsync($"/api/v1/templates/{template}/versions", cancellationToken)).EnumerateArray().Single();
        var parameters = version.GetProperty("parameters").EnumerateArray().ToDictionary(parameter => parameter.GetProperty("name").GetString()!);
        Assert.Equal(["cpus", "project", "region"], parameters.Keys.Order());
        Assert.Equal("number", parameters["cpus"].GetProperty("type").GetString());
        Assert.True(parameters["cpus"].GetProperty("mutable").GetBoolean());
        Assert.Equal("eu", parameters["region"].GetProperty("default_value").GetString());

        // Create with two user values; the provider reads them from CODER_PARAMETER_<hash>.
        var start = await Coordinator.WaitForEndAsync(
            await Coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken, new Dictionary<string, string> { ["cpus"] = "4", ["project"] = "alpha" }),
            cancellationToken);
        FleetCoordinator.AssertSucceeded(start);

        // Assert: the workspace's resources through the API: the agent on its compute resource, the apps and the metadata.
        var created = await Coordinator.GetAsync($"/api/v1/workspaces/{workspace}", cancellationToken);
        var compute = created.GetProperty("resources").EnumerateArray()
            .Single(resource => resource.GetProperty("type").GetString() == "terraform_data" && resource.GetProperty("transition").GetString() == "start");
        var agent = compute.GetProperty("agents").EnumerateArray().Single();
        Assert.Equal(("main", "linux"), (agent.GetProperty("name").GetString(), agent.GetProperty("operating_system").GetString()));
        var apps = agent.GetProperty("apps").EnumerateArray().ToDictionary(app => app.GetProperty("slug").GetString()!);
        Assert.Equal(["shell", "web"], apps.Keys.Order());
        Assert.Equal("http://localhost:8080", apps["web"].GetProperty("url").GetString());
        Assert.Equal("Web", apps["web"].GetProperty("display_name").GetString());
        Assert.Equal("bash", apps["shell"].GetProperty("command").GetString());
        Assert.Equal(5, compute.GetProperty("daily_cost").GetInt32());
        var metadata = compute.GetProperty("metadata").EnumerateArray().ToDictionary(item => item.GetProperty("key").GetString()!);
        Assert.Equal("eu", metadata["region"].GetProperty("value").GetString());
        Assert.True(metadata["password"].GetProperty("sensitive").GetBoolean());

        // The state holds what the provider computed from the build's environment.
        var state = await StateAsync(workspace, 1, cancellationToken);
        Assert.True(Guid.TryParse(state["coder_agent.main"].GetProperty("token").GetString(), out _));
        Assert.Equal("echo 4 cpus", state["coder_agent.main"].GetProperty("startup_script").GetString());
        Assert.Equal("admin-alpha", state["terraform_data.workspace"].GetProperty("input").GetProperty("value").GetString());

        // Delete: Terraform destroys every coder_* resource through the provider, and the workspace is gone.
        var delete = await Coordinator.WaitForEndAsync(await Coordinator.BuildAsync(workspace, "delete", cancellationToken), cancellationToken);
        FleetCoordinator.AssertSucceeded(delete);
        var logs = string.Join('\n', (await Coordinator.LogsAsync(delete.GetProperty("id").GetString()!, cancellationToken)).Select(line => line.GetProperty("output").GetString()));
        Assert.Contains("coder_agent.main: Destruction complete", logs, StringComparison.Ordinal);
        Assert.Contains("coder_app.web: Destruction complete", logs, StringComparison.Ordinal);
        using var gone = await Coordinator.Admin.GetAsync($"/api/v1/workspaces/{workspace}", cancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        await daemon.AssertCleanedUpAsync(cancellationToken);
    }

    private static void UseCoderMirror(Provisioning.Terraform.TerraformOptions options) =>
        options.ProviderMirrorDirectory = CoderProviderMirror.Shared.Directory;

    /// <summary>The first instance's attributes of each resource in a build's state, by type.name.</summary>
    private async Task<Dictionary<string, JsonElement>> StateAsync(string workspace, int number, CancellationToken cancellationToken)
    {
        var state = await Coordinator.GetAsync($"/api/v1/workspaces/{workspace}/builds/{number}/state", cancellationToken);
        return state.GetProperty("resources").EnumerateArray()
            .Where(resource => resource.GetProperty("mode").GetString() == "managed")
            .ToDictionary(
                resource => $"{resource.GetProperty("type").GetString()}.{resource.GetProperty("name").GetString()}",
                resource => resource.GetProperty("instances")[0].GetProperty("attributes").Clone());
    }
}
