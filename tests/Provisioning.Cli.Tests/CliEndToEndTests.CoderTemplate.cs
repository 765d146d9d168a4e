using System.Diagnostics;
using System.Text;
using System.Text.Json;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

// Issue 10's "done when": a Coder-style template through the CLI, real server, two real tagged daemon processes, real
// Terraform and the coder test provider (installed from a filesystem mirror with --provider-mirror).
public sealed partial class CliEndToEndTests
{
    /// <summary>
    /// Parameters with validation, an agent with apps and scripts, a devcontainer whose sub-agent has a script, an
    /// app and a variable, workspace tags from a parameter, two presets; STARTUP is the startup script.
    /// </summary>
    private const string CoderTemplate = CoderTemplateText.RequiredProviders + """
        data "coder_provisioner" "me" {}
        data "coder_workspace" "me" {}

        data "coder_parameter" "region" {
          name    = "region"
          default = "eu"
          option {
            name  = "Europe"
            value = "eu"
          }
          option {
            name  = "United States"
            value = "us"
          }
          option {
            name  = "Asia Pacific"
            value = "ap"
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
            "pool"   = "coder"
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
          name = "Large"
          parameters = {
            region = "us"
            cpus   = "8"
          }
        }

        resource "coder_agent" "main" {
          os             = data.coder_provisioner.me.os
          arch           = data.coder_provisioner.me.arch
          startup_script = "STARTUP ${data.coder_parameter.cpus.value}"
        }

        resource "coder_app" "web" {
          agent_id = coder_agent.main.id
          slug     = "web"
          url      = "http://localhost:8080"
        }

        resource "coder_script" "setup" {
          agent_id     = coder_agent.main.id
          display_name = "Setup"
          script       = "echo setup"
          run_on_start = true
        }

        resource "coder_script" "install" {
          agent_id           = coder_agent.main.id
          display_name       = "Install"
          script             = "echo install"
          run_on_start       = true
          start_blocks_login = true
        }

        resource "coder_devcontainer" "dev" {
          agent_id         = coder_agent.main.id
          workspace_folder = "/workspace"
        }

        resource "coder_script" "dc_run" {
          agent_id     = coder_devcontainer.dev.subagent_id
          display_name = "Run"
          script       = "echo run"
          run_on_stop  = true
        }

        resource "coder_app" "dc_app" {
          agent_id = coder_devcontainer.dev.subagent_id
          slug     = "dc-app"
          command  = "bash"
        }

        resource "coder_env" "dc_env" {
          agent_id = coder_devcontainer.dev.subagent_id
          name     = "IN_DEVCONTAINER"
          value    = "1"
        }

        resource "terraform_data" "box" {
          count            = data.coder_workspace.me.start_count
          input            = "${data.coder_parameter.region.value}-${data.coder_parameter.cpus.value}"
          triggers_replace = coder_agent.main.id
        }
        """;

    /// <summary>
    /// Added to <see cref="CoderTemplate"/>: Install runs after Setup. The agent's only resource has
    /// <c>count = start_count</c>, so the import's stop-phase plan and the delete build's plan hold the agent on no
    /// resource: the rule must still be accepted there (it once failed both).
    /// </summary>
    private const string ScriptOrder = """
        data "coder_script_order" "startup" {
          rule {
            run   = ["coder_script.install"]
            after = ["coder_script.setup"]
          }
        }
        """;

    [Fact]
    public async Task CoderTemplate_PushPreviewCreateWithPresetUpdateRestartDelete_RoutedToTheDaemonItsTagsName()
    {
        SkipUnlessLinux();
        var directory = Directory.CreateTempSubdirectory("provisioning-coder-template-");
        var daemons = new List<Process>();
        try
        {
            // Two daemon processes, each offered one region by its key, both installing the coder provider from the mirror.
            foreach (var region in new[] { "eu", "us" })
            {
                var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", $"coder-{region}", "--tag", "pool=coder", "--tag", $"region={region}")).Stdout.Trim();
                daemons.Add(fleet.StartLongRunning(
                    ["provisioner", "start", "--url", fleet.Url, "--name", $"coder-{region}", "--cache-dir", Path.Combine(fleet.Home, $"cache-{region}"),
                        "--provider-mirror", CoderProviderMirror.Shared.Directory],
                    new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key },
                    new StringBuilder()));
            }

            // Push: the import runs on a pool=coder daemon (the template's own tag).
            // Its workspace tags, evaluated with the defaults (region eu), route it too: it runs on the eu daemon.
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "main.tf"), CoderTemplate.Replace("STARTUP", "echo v1", StringComparison.Ordinal), TestContext.Current.CancellationToken);
            var pushed = await fleet.RunCheckedAsync("templates", "push", "coder", "-d", directory.FullName, "--provisioner-tag", "pool=coder", "-y");
            var import = JsonDocument.Parse((await fleet.RunCheckedAsync("templates", "versions", "list", "coder", "-o", "json")).Stdout).RootElement[0].GetProperty("job");

            // A value the template's validation refuses: one line with the template's message, nothing created.
            var refused = await fleet.RunAsync("create", "coderws", "-t", "coder", "--parameter", "project=Bad1", "-y");

            // Preview with the Large preset (region us): the plan's resources as a table, and no workspace.
            var preview = await fleet.RunCheckedAsync("create", "coderws", "-t", "coder", "--preset", "Large", "--dry-run");
            var afterPreview = JsonDocument.Parse((await fleet.RunCheckedAsync("list", "-o", "json")).Stdout).RootElement;

            // Create with the Small preset (region eu): the build goes to the eu daemon.
            var created = await fleet.RunCheckedAsync("create", "coderws", "-t", "coder", "--preset", "Small", "-y");
            var first = await ShowAsync("coderws");
            var shownText = await fleet.RunCheckedAsync("show", "coderws");

            // Ordered scripts: show says what each waits for; the delete destroys it like any other workspace.
            var ordered = Directory.CreateTempSubdirectory("provisioning-coder-ordered-");
            await File.WriteAllTextAsync(
                Path.Combine(ordered.FullName, "main.tf"), CoderTemplate.Replace("STARTUP", "echo ordered", StringComparison.Ordinal) + "\n" + ScriptOrder, TestContext.Current.CancellationToken);
            await fleet.RunCheckedAsync("templates", "push", "coder-ordered", "-d", ordered.FullName, "--provisioner-tag", "pool=coder", "-y");
            ordered.Delete(recursive: true);
            await fleet.RunCheckedAsync("create", "orderedws", "-t", "coder-ordered", "-y");
            var orderedJson = await ShowAsync("orderedws");
            var orderedText = await fleet.RunCheckedAsync("show", "orderedws");
            await fleet.RunCheckedAsync("delete", "orderedws", "-y");

            // A new version (another startup script), then update with a changed parameter (cpus 2 → 4, monotonic increasing).
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "main.tf"), CoderTemplate.Replace("STARTUP", "echo v2", StringComparison.Ordinal), TestContext.Current.CancellationToken);
            await fleet.RunCheckedAsync("templates", "push", "coder", "-d", directory.FullName, "--provisioner-tag", "pool=coder", "-y");
            var updated = await fleet.RunCheckedAsync("update", "coderws", "--parameter", "cpus=4", "-y");
            var afterUpdate = await ShowAsync("coderws");
            var decreasing = await fleet.RunAsync("update", "coderws", "--parameter", "cpus=3", "-y");
            var restarted = await fleet.RunCheckedAsync("restart", "coderws", "-y");
            var afterRestart = await ShowAsync("coderws");
            var state = await fleet.RunCheckedAsync("state", "pull", "coderws");
            var deleted = await fleet.RunCheckedAsync("delete", "coderws", "-y");
            var provisioners = JsonDocument.Parse((await fleet.RunCheckedAsync("provisioner", "list", "-o", "json")).Stdout).RootElement.EnumerateArray()
                .ToDictionary(daemon => daemon.GetProperty("id").GetString()!, daemon => daemon.GetProperty("name").GetString());

            Assert.Contains("The template's workspace tags route its import too: tags pool=coder,region=eu", pushed.Stdout, StringComparison.Ordinal);
            Assert.Equal("coder-eu", provisioners[import.GetProperty("worker_id").GetString()!]);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("Lowercase letters only.", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("Dry run of template 'coder'", preview.Stdout, StringComparison.Ordinal);
            Assert.Contains("terraform_data.box", preview.Stdout, StringComparison.Ordinal);
            Assert.Contains("main (linux/", preview.Stdout, StringComparison.Ordinal);
            Assert.Contains("web", preview.Stdout, StringComparison.Ordinal);
            Assert.Contains("Dry run only: workspace 'coderws' was not created.", preview.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(afterPreview.EnumerateArray(), workspace => workspace.GetProperty("name").GetString() == "coderws");
            Assert.Contains("Using preset 'Small'", created.Stdout, StringComparison.Ordinal);
            Assert.Equal("coder-eu", provisioners[WorkerOf(first)]);
            Assert.Equal(["cpus=2", "project=demo", "region=eu"], Values(first));
            var agent = first.GetProperty("resources").EnumerateArray().SelectMany(resource => resource.GetProperty("agents").EnumerateArray()).Single();
            Assert.All(agent.GetProperty("scripts").EnumerateArray(), script => Assert.Empty(script.GetProperty("dependencies").EnumerateArray()));
            var orderedAgent = orderedJson.GetProperty("resources").EnumerateArray().SelectMany(resource => resource.GetProperty("agents").EnumerateArray()).Single();
            var install = orderedAgent.GetProperty("scripts").EnumerateArray().Single(script => script.GetProperty("display_name").GetString() == "Install");
            var dependency = Assert.Single(install.GetProperty("dependencies").EnumerateArray());
            Assert.Equal("coder_script.setup", dependency.GetProperty("prerequisite_resource_address").GetString());
            Assert.Equal("success", dependency.GetProperty("requirement").GetString());
            Assert.Contains("script Install (coder_script.install): on start, blocks login; after: coder_script.setup", orderedText.Stdout, StringComparison.Ordinal);
            var devcontainer = Assert.Single(agent.GetProperty("devcontainers").EnumerateArray());
            Assert.Equal("/workspace", devcontainer.GetProperty("workspace_folder").GetString());
            Assert.Equal("dc-app", Assert.Single(devcontainer.GetProperty("apps").EnumerateArray()).GetProperty("slug").GetString());
            Assert.Equal("IN_DEVCONTAINER", Assert.Single(devcontainer.GetProperty("envs").EnumerateArray()).GetProperty("name").GetString());
            var subagentId = devcontainer.GetProperty("subagent_id").GetString();
            Assert.Contains("script Setup (coder_script.setup): on start", shownText.Stdout, StringComparison.Ordinal);
            Assert.Contains("script Install (coder_script.install): on start, blocks login\n", shownText.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Contains($"devcontainer {devcontainer.GetProperty("name").GetString()}: /workspace", shownText.Stdout, StringComparison.Ordinal);
            Assert.Contains($"sub-agent {subagentId}", shownText.Stdout, StringComparison.Ordinal);
            Assert.Contains("app dc-app: bash", shownText.Stdout, StringComparison.Ordinal);
            Assert.Contains("script Run (coder_script.dc_run): on stop", shownText.Stdout, StringComparison.Ordinal);
            Assert.Contains("env IN_DEVCONTAINER", shownText.Stdout, StringComparison.Ordinal);
            Assert.Contains("succeeded", updated.Stdout, StringComparison.Ordinal);
            Assert.Equal("v2", afterUpdate.GetProperty("latest_build").GetProperty("template_version_name").GetString());
            Assert.Equal(["cpus=4", "project=demo", "region=eu"], Values(afterUpdate));
            Assert.Equal("coder-eu", provisioners[WorkerOf(afterUpdate)]);
            Assert.NotEqual(0, decreasing.ExitCode);
            Assert.Contains("must be equal or greater than previous value: 4", decreasing.Stderr, StringComparison.Ordinal);
            Assert.Contains("(stop)", restarted.Stdout, StringComparison.Ordinal);
            Assert.Contains("(start)", restarted.Stdout, StringComparison.Ordinal);
            Assert.Equal(afterUpdate.GetProperty("latest_build").GetProperty("build_number").GetInt32() + 2, afterRestart.GetProperty("latest_build").GetProperty("build_number").GetInt32());
            Assert.Contains("echo v2", state.Stdout, StringComparison.Ordinal);
            Assert.Contains("The workspace is gone.", deleted.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var daemon in daemons)
            {
                await CliFleetFixture.SignalAndWaitAsync(daemon, "TERM");
                daemon.Dispose();
            }

            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CoderTemplate_WorkspaceTagNoDaemonOffers_WaitsSayingSo()
    {
        SkipUnlessLinux();
        var directory = Directory.CreateTempSubdirectory("provisioning-coder-waiting-");
        var daemon = default(Process);
        try
        {
            var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", "coder-only-eu", "--tag", "pool=waiting", "--tag", "region=eu")).Stdout.Trim();
            daemon = fleet.StartLongRunning(
                ["provisioner", "start", "--url", fleet.Url, "--name", "coder-only-eu", "--cache-dir", Path.Combine(fleet.Home, "cache-only-eu"), "--provider-mirror", CoderProviderMirror.Shared.Directory],
                new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key },
                new StringBuilder());
            await File.WriteAllTextAsync(
                Path.Combine(directory.FullName, "main.tf"),
                CoderTemplate.Replace("STARTUP", "echo", StringComparison.Ordinal).Replace("\"pool\"   = \"coder\"", "\"pool\"   = \"waiting\"", StringComparison.Ordinal),
                TestContext.Current.CancellationToken);
            await fleet.RunCheckedAsync("templates", "push", "coder-waiting", "-d", directory.FullName, "--provisioner-tag", "pool=waiting", "-y");

            // Region ap: no daemon offers it, so the build waits, and says why, in show, jobs and the API.
            using var create = fleet.StartDetached("create", "far", "-t", "coder-waiting", "--parameter", "region=ap", "-y");
            JsonElement build = default;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (build.ValueKind == JsonValueKind.Undefined || !build.GetProperty("job").TryGetProperty("waiting_reason", out var reason) || reason.ValueKind != JsonValueKind.String)
            {
                Assert.True(DateTime.UtcNow < deadline, "The build of workspace 'far' was not pending with a reason within 60 s.");
                await Task.Delay(250, TestContext.Current.CancellationToken);
                var shown = await fleet.RunAsync("show", "far", "-o", "json");
                build = shown.ExitCode == 0 ? JsonDocument.Parse(shown.Stdout).RootElement.GetProperty("latest_build") : default;
            }

            var show = await fleet.RunCheckedAsync("show", "far");
            var jobs = await fleet.RunCheckedAsync("jobs", "list", "--status", "pending");
            var cancel = await fleet.RunCheckedAsync("jobs", "cancel", build.GetProperty("job").GetProperty("id").GetString()!);
            var ended = await CliFleetFixture.CollectAsync(create, CliFleetFixture.CommandTimeout);

            Assert.Equal("no provisioner matches tags {\"pool\":\"waiting\",\"region\":\"ap\"}", build.GetProperty("job").GetProperty("waiting_reason").GetString());
            Assert.Contains("routed by tags pool=waiting,region=ap", show.Stdout, StringComparison.Ordinal);
            Assert.Contains("waiting: no provisioner matches tags", show.Stdout, StringComparison.Ordinal);
            Assert.Contains("no provisioner matches tags", jobs.Stdout, StringComparison.Ordinal);
            Assert.Contains("canceled", cancel.Stdout, StringComparison.Ordinal);
            Assert.NotEqual(0, ended.ExitCode);
        }
        finally
        {
            if (daemon is not null)
            {
                await CliFleetFixture.SignalAndWaitAsync(daemon, "TERM");
                daemon.Dispose();
            }

            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ExternalAgentTemplate_VersionsListAndShow_SayItHasExternalAgents_InTablesAndJson()
    {
        SkipUnlessLinux();
        var directory = Directory.CreateTempSubdirectory("provisioning-external-agent-");
        var daemon = default(Process);
        try
        {
            var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", "coder-external", "--tag", "pool=external")).Stdout.Trim();
            daemon = fleet.StartLongRunning(
                ["provisioner", "start", "--url", fleet.Url, "--name", "coder-external", "--cache-dir", Path.Combine(fleet.Home, "cache-external"), "--provider-mirror", CoderProviderMirror.Shared.Directory],
                new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key },
                new StringBuilder());
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "main.tf"), CoderTemplateText.RequiredProviders + """
                resource "coder_agent" "outside" {
                  os   = "linux"
                  arch = "amd64"
                }

                resource "coder_external_agent" "outside" {
                  agent_id = coder_agent.outside.id
                }
                """, TestContext.Current.CancellationToken);
            await fleet.RunCheckedAsync("templates", "push", "external", "-d", directory.FullName, "--provisioner-tag", "pool=external", "-y");
            await fleet.RunCheckedAsync("create", "outside", "-t", "external", "-y");

            var table = await fleet.RunCheckedAsync("templates", "versions", "list", "external");
            var versions = JsonDocument.Parse((await fleet.RunCheckedAsync("templates", "versions", "list", "external", "-o", "json")).Stdout).RootElement;
            var show = await fleet.RunCheckedAsync("show", "outside");
            var shown = await ShowAsync("outside");
            var local = await fleet.RunCheckedAsync("templates", "versions", "list", "local");
            await fleet.RunCheckedAsync("delete", "outside", "-y");

            Assert.Equal("yes", FirstRowCell(table.Stdout, "EXTERNAL AGENTS"));
            Assert.True(versions[0].GetProperty("has_external_agents").GetBoolean(), versions.ToString());
            Assert.Contains("external agents: yes", show.Stdout, StringComparison.Ordinal);
            Assert.True(shown.GetProperty("latest_build").GetProperty("has_external_agents").GetBoolean(), shown.ToString());

            // A template without one leaves the column empty, and its builds say false.
            Assert.Equal("", FirstRowCell(local.Stdout, "EXTERNAL AGENTS"));
        }
        finally
        {
            if (daemon is not null)
            {
                await CliFleetFixture.SignalAndWaitAsync(daemon, "TERM");
                daemon.Dispose();
            }

            directory.Delete(recursive: true);
        }
    }

    /// <summary>The text under <paramref name="header"/> in the first row of a plain (unstyled) table.</summary>
    private static string FirstRowCell(string table, string header)
    {
        var lines = table.Split('\n');
        var start = lines[0].IndexOf(header, StringComparison.Ordinal);
        Assert.True(start >= 0, $"No column {header} in:\n{table}");
        var row = lines[1].PadRight(start + header.Length);
        return row.Substring(start, header.Length).Trim();
    }

    private async Task<JsonElement> ShowAsync(string workspace) =>
        JsonDocument.Parse((await fleet.RunCheckedAsync("show", workspace, "-o", "json")).Stdout).RootElement;

    private static string WorkerOf(JsonElement workspace) =>
        workspace.GetProperty("latest_build").GetProperty("job").GetProperty("worker_id").GetString()!;

    private static List<string> Values(JsonElement workspace) =>
        [.. workspace.GetProperty("latest_build").GetProperty("rich_parameter_values").EnumerateArray()
            .Select(value => $"{value.GetProperty("name").GetString()}={value.GetProperty("value").GetString()}").Order()];
}
