using System.Collections;
using System.Text.Json;

using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.Execution;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.CoderProvider;

/// <summary>
/// The coder test provider through real Terraform (init from the mirror, plan, apply, show -json, destroy), with the
/// environment the product's <see cref="TerraformEnvironment"/> builds for a workspace build: every served type, the
/// values the real provider would give them, and the product's half of the environment contract.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class CoderProviderTemplateTests
{
    private const string EveryType = """
        terraform {
          required_providers {
            coder = {
              source  = "coder/coder"
              version = ">= 2.0.0"
            }
          }
        }

        data "coder_workspace" "me" {}
        data "coder_workspace_owner" "me" {}
        data "coder_provisioner" "me" {}

        data "coder_external_auth" "github" {
          id = "github"
        }

        data "coder_parameter" "region" {
          name         = "region"
          display_name = "Region"
          default      = "eu"
          mutable      = true
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
          validation {
            min       = 1
            max       = 8
            monotonic = "increasing"
          }
        }

        data "coder_parameter" "features" {
          name    = "features"
          type    = "list(string)"
          default = jsonencode(["git"])
        }

        data "coder_parameter" "gpu" {
          name    = "gpu"
          type    = "bool"
          default = false
        }

        data "coder_workspace_tags" "tags" {
          tags = {
            region = data.coder_parameter.region.value
            team   = "core"
          }
        }

        data "coder_workspace_preset" "small" {
          name = "small"
          parameters = {
            region = "eu"
            cpus   = "2"
          }
        }

        data "coder_workspace_preset" "large" {
          name        = "large"
          description = "Eight cores"
          default     = true
          parameters = {
            cpus = "8"
          }
          prebuilds {
            instances = 1
          }
        }

        resource "terraform_data" "box" {
          input = data.coder_workspace.me.name
        }

        resource "coder_agent" "dev" {
          os             = "linux"
          arch           = "amd64"
          startup_script = "echo hello"
          env = {
            GREETING = "hi"
          }
          metadata {
            key          = "cpu"
            display_name = "CPU"
            script       = "echo 1"
            interval     = 10
            timeout      = 1
          }
        }

        resource "coder_agent_instance" "dev" {
          agent_id    = coder_agent.dev.id
          instance_id = "i-123"
        }

        resource "coder_app" "code" {
          agent_id     = coder_agent.dev.id
          slug         = "code"
          display_name = "Code"
          url          = "http://localhost:8080"
          healthcheck {
            url       = "http://localhost:8080/healthz"
            interval  = 5
            threshold = 6
          }
        }

        resource "coder_script" "boot" {
          agent_id     = coder_agent.dev.id
          display_name = "Boot"
          script       = "echo boot"
          run_on_start = true
        }

        resource "coder_env" "extra" {
          agent_id = coder_agent.dev.id
          name     = "EXTRA"
          value    = "1"
        }

        resource "coder_metadata" "box" {
          resource_id = terraform_data.box.id
          item {
            key   = "size"
            value = "small"
          }
          item {
            key = "empty"
          }
        }
        """;

    [Fact(Timeout = 300_000)]
    public async Task EveryServedType_ThroughRealTerraform_HasTheRealProvidersValuesAndReadsTheProductsEnvironment()
    {
        // Arrange: the environment the product gives Terraform for a workspace build.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(EveryType);
        var metadata = new Metadata
        {
            CoderUrl = "http://coder.example:7080",
            WorkspaceTransition = WorkspaceTransition.Start,
            WorkspaceName = "dev",
            WorkspaceId = "6b0ea3c6-4b8c-4b87-a4a7-6a4a7f1e3a11",
            WorkspaceOwner = "alice",
            WorkspaceOwnerId = "0c7fa5b4-58a0-4a4c-a25e-1f14c8c5bd00",
            WorkspaceOwnerName = "Alice Liddell",
            WorkspaceOwnerEmail = "alice@example.com",
            WorkspaceOwnerGroups = { "devs", "ops" },
            WorkspaceOwnerRbacRoles = { new Role { Name = "member", OrgId = "org-1" } },
            WorkspaceOwnerSessionToken = "session-secret",
            WorkspaceOwnerLoginType = "password",
            WorkspaceOwnerSshPublicKey = "ssh-ed25519 AAAA alice",
            TemplateId = "tmpl-1",
            TemplateName = "coder-style",
            TemplateVersion = "v1",
            WorkspaceBuildId = "build-1",
            WorkspaceBuildNumber = 1,
            RunningWorkspaceAgentToken = "7d3f6c1e-prebuilt-agent-token",
        };
        var environment = TerraformEnvironment.Build(
            new TerraformOptions { CacheDirectory = run.WorkDirectory },
            new Hashtable(),
            metadata,
            [new RichParameterValue { Name = "region", Value = "us" }, new RichParameterValue { Name = "cpus", Value = "4" }],
            [new ExternalAuthProvider { Id = "github", AccessToken = "gh-token" }],
            cliConfigFile: null);
        environment.Remove("TF_PLUGIN_CACHE_DIR");

        // Act
        await run.SucceedAsync(["init", "-input=false", "-no-color"], environment, cancellationToken);
        await run.SucceedAsync(["apply", "-auto-approve", "-input=false", "-no-color"], environment, cancellationToken);
        var state = await run.StateAsync(cancellationToken);

        // Assert: init installed the mirror's package as registry.terraform.io/coder/coder and locked it.
        var lockFile = await File.ReadAllTextAsync(Path.Combine(run.WorkDirectory, ".terraform.lock.hcl"), cancellationToken);
        Assert.Contains("provider \"registry.terraform.io/coder/coder\"", lockFile, StringComparison.Ordinal);
        Assert.Contains($"version     = \"{CoderProviderMirror.Version}\"", lockFile, StringComparison.Ordinal);
        Assert.Contains("\"h1:", lockFile, StringComparison.Ordinal);

        var workspace = state["data.coder_workspace.me"];
        Assert.Equal("dev", Text(workspace, "name"));
        Assert.Equal(metadata.WorkspaceId, Text(workspace, "id"));
        Assert.Equal("start", Text(workspace, "transition"));
        Assert.Equal(1, workspace.GetProperty("start_count").GetInt32());
        Assert.Equal("tmpl-1", Text(workspace, "template_id"));
        Assert.Equal("coder-style", Text(workspace, "template_name"));
        Assert.Equal("v1", Text(workspace, "template_version"));
        Assert.Equal("http://coder.example:7080", Text(workspace, "access_url"));
        Assert.Equal(7080, workspace.GetProperty("access_port").GetInt32());
        Assert.False(workspace.GetProperty("is_prebuild").GetBoolean());

        var owner = state["data.coder_workspace_owner.me"];
        Assert.Equal("alice", Text(owner, "name"));
        Assert.Equal(metadata.WorkspaceOwnerId, Text(owner, "id"));
        Assert.Equal("Alice Liddell", Text(owner, "full_name"));
        Assert.Equal("alice@example.com", Text(owner, "email"));
        Assert.Equal(["devs", "ops"], owner.GetProperty("groups").EnumerateArray().Select(group => group.GetString()));
        Assert.Equal("member", Text(owner.GetProperty("rbac_roles")[0], "name"));
        Assert.Equal("org-1", Text(owner.GetProperty("rbac_roles")[0], "org_id"));
        Assert.Equal("password", Text(owner, "login_type"));
        Assert.Equal("session-secret", Text(owner, "session_token"));
        Assert.Equal("ssh-ed25519 AAAA alice", Text(owner, "ssh_public_key"));

        Assert.Equal("linux", Text(state["data.coder_provisioner.me"], "os"));
        Assert.Equal("gh-token", Text(state["data.coder_external_auth.github"], "access_token"));

        // Parameters: the user's values arrive through CODER_PARAMETER_<sha256>, the others take their defaults.
        var region = state["data.coder_parameter.region"];
        Assert.Equal("us", Text(region, "value"));
        Assert.Equal("radio", Text(region, "form_type"));
        Assert.True(region.GetProperty("optional").GetBoolean());
        Assert.Equal("string", Text(region, "type"));
        Assert.Equal("{}", Text(region, "styling"));
        var cpus = state["data.coder_parameter.cpus"];
        Assert.Equal("4", Text(cpus, "value"));
        Assert.Equal("input", Text(cpus, "form_type"));
        Assert.False(cpus.GetProperty("validation")[0].GetProperty("min_disabled").GetBoolean());
        Assert.Equal(8, cpus.GetProperty("validation")[0].GetProperty("max").GetInt32());
        Assert.Equal("[\"git\"]", Text(state["data.coder_parameter.features"], "value"));
        Assert.Equal("tag-select", Text(state["data.coder_parameter.features"], "form_type"));
        Assert.Equal("false", Text(state["data.coder_parameter.gpu"], "value"));
        Assert.Equal("checkbox", Text(state["data.coder_parameter.gpu"], "form_type"));

        var tags = state["data.coder_workspace_tags.tags"].GetProperty("tags");
        Assert.Equal("us", Text(tags, "region"));
        Assert.Equal("core", Text(tags, "team"));
        Assert.Equal("small", Text(state["data.coder_workspace_preset.small"], "id"));
        Assert.False(state["data.coder_workspace_preset.small"].GetProperty("default").GetBoolean());
        var large = state["data.coder_workspace_preset.large"];
        Assert.True(large.GetProperty("default").GetBoolean());
        Assert.Equal("8", Text(large.GetProperty("parameters"), "cpus"));
        Assert.Equal(1, large.GetProperty("prebuilds")[0].GetProperty("instances").GetInt32());

        // Resources: computed ids and the agent token are UUIDs; defaults are the real provider's.
        var agent = state["coder_agent.dev"];
        var agentId = Text(agent, "id");
        Assert.True(Guid.TryParse(agentId, out _), agentId);
        // A claimed prebuild's running agent keeps its token: the product names the variable as the provider reads it.
        Assert.Equal("7d3f6c1e-prebuilt-agent-token", Text(agent, "token"));
        // The bootstrap script for linux/amd64, with the access URL and auth type the provider put in.
        var initScript = Text(agent, "init_script");
        Assert.StartsWith("#!/usr/bin/env sh", initScript, StringComparison.Ordinal);
        Assert.Contains("BINARY_URL=\"http://coder.example:7080/bin/coder-linux-amd64\"", initScript, StringComparison.Ordinal);
        Assert.Contains("export CODER_AGENT_AUTH=\"token\"", initScript, StringComparison.Ordinal);
        Assert.Contains("export CODER_AGENT_URL=\"http://coder.example:7080/\"", initScript, StringComparison.Ordinal);
        Assert.Equal("all", Text(agent, "api_key_scope"));
        Assert.Equal("token", Text(agent, "auth"));
        Assert.Equal(120, agent.GetProperty("connection_timeout").GetInt32());
        Assert.Equal("non-blocking", Text(agent, "startup_script_behavior"));
        Assert.Equal("hi", Text(agent.GetProperty("env"), "GREETING"));
        var displayApps = agent.GetProperty("display_apps")[0];
        Assert.True(displayApps.GetProperty("vscode").GetBoolean());
        Assert.False(displayApps.GetProperty("vscode_insiders").GetBoolean());
        Assert.True(displayApps.GetProperty("web_terminal").GetBoolean());
        Assert.Equal("CPU", Text(agent.GetProperty("metadata")[0], "display_name"));
        Assert.Equal(0, agent.GetProperty("metadata")[0].GetProperty("order").GetInt32());

        Assert.Equal(agentId, Text(state["coder_agent_instance.dev"], "agent_id"));
        var app = state["coder_app.code"];
        Assert.Equal(agentId, Text(app, "agent_id"));
        Assert.True(Guid.TryParse(Text(app, "id"), out _));
        Assert.Equal("owner", Text(app, "share"));
        Assert.Equal("slim-window", Text(app, "open_in"));
        Assert.False(app.GetProperty("external").GetBoolean());
        Assert.False(app.GetProperty("hidden").GetBoolean());
        Assert.Equal(6, app.GetProperty("healthcheck")[0].GetProperty("threshold").GetInt32());
        var script = state["coder_script.boot"];
        Assert.True(script.GetProperty("run_on_start").GetBoolean());
        Assert.False(script.GetProperty("run_on_stop").GetBoolean());
        Assert.False(script.GetProperty("start_blocks_login").GetBoolean());
        Assert.Equal("replace", Text(state["coder_env.extra"], "merge_strategy"));
        var items = state["coder_metadata.box"].GetProperty("item");
        Assert.False(items[0].GetProperty("is_null").GetBoolean());
        Assert.Equal("small", Text(items[0], "value"));
        Assert.True(items[1].GetProperty("is_null").GetBoolean());
        Assert.Equal("", Text(items[1], "value"));
        Assert.False(items[1].GetProperty("sensitive").GetBoolean());

        // A second plan with the same inputs changes nothing (the provider's read and plan are stable); destroy empties the state.
        var (planExit, planOutput, planErrors) = await run.RunAsync(["plan", "-input=false", "-no-color", "-detailed-exitcode"], environment, cancellationToken);
        Assert.True(planExit == 0, $"A second plan wants changes (exit code {planExit}):\n{planOutput}\n{planErrors}");
        var destroy = new Dictionary<string, string?>(environment) { ["CODER_WORKSPACE_TRANSITION"] = "destroy" };
        await run.SucceedAsync(["destroy", "-auto-approve", "-input=false", "-no-color"], destroy, cancellationToken);
        var afterDestroy = await run.SucceedAsync(["show", "-json"], destroy, cancellationToken);
        using var document = JsonDocument.Parse(afterDestroy);
        Assert.False(document.RootElement.TryGetProperty("values", out var values) && values.TryGetProperty("root_module", out var root) && root.TryGetProperty("resources", out _),
            $"The state still has resources after destroy: {afterDestroy}");
    }

    [Fact(Timeout = 300_000)]
    public async Task ChangedParameter_OnTheNextPlan_ReplacesWhatDependsOnItOnly()
    {
        // Arrange: an agent whose startup script holds a parameter's value, applied once.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(CoderTemplateText.RequiredProviders + """
            data "coder_parameter" "greeting" {
              name    = "greeting"
              default = "hello"
              mutable = true
            }

            resource "coder_agent" "dev" {
              os             = "linux"
              arch           = "amd64"
              startup_script = "echo ${data.coder_parameter.greeting.value}"
            }

            resource "coder_app" "code" {
              agent_id = coder_agent.dev.id
              slug     = "code"
            }

            resource "coder_env" "fixed" {
              agent_id = "not-the-agent"
              name     = "FIXED"
            }
            """);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        await run.SucceedAsync(["apply", "-auto-approve", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        var before = await run.StateAsync(cancellationToken);

        // Act: the user changes the parameter.
        var changed = new Dictionary<string, string?> { [TerraformEnvironment.ParameterVariableName("greeting")] = "bonjour" };
        await run.SucceedAsync(["apply", "-auto-approve", "-input=false", "-no-color"], changed, cancellationToken);
        var after = await run.StateAsync(cancellationToken);

        // Assert: the agent (ForceNew) and the app that references its id are new; the unrelated env stays.
        Assert.Equal("echo bonjour", Text(after["coder_agent.dev"], "startup_script"));
        Assert.NotEqual(Text(before["coder_agent.dev"], "id"), Text(after["coder_agent.dev"], "id"));
        Assert.NotEqual(Text(before["coder_app.code"], "id"), Text(after["coder_app.code"], "id"));
        Assert.Equal(Text(before["coder_env.fixed"], "id"), Text(after["coder_env.fixed"], "id"));
    }

    private static string? Text(JsonElement element, string property) => element.GetProperty(property).GetString();
}
