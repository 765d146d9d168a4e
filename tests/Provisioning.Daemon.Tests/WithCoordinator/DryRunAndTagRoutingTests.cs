using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Provisioning.Daemon.Tests.Support;
using Provisioning.Testing;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// Issue 10 items 3 and 4 through the real coordinator, real daemons and real Terraform with the coder test provider:
/// a template version's dry run (plan only, values validated like a build's), and builds routed by the template's
/// <c>coder_workspace_tags</c> evaluated with the build's parameters.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DryRunAndTagRoutingTests(TerraformCacheFixture terraform, FleetCoordinatorFixture fixture) : IClassFixture<FleetCoordinatorFixture>
{
    /// <summary>A Coder-style template whose workspace tags name the region a parameter chooses.</summary>
    private const string RegionTemplate = CoderTemplateText.RequiredProviders + """
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
            "pool"   = "${data.coder_parameter.region.value == "eu" ? "europe" : "world"}-${var.pool_suffix}"
          }
        }

        variable "pool_suffix" {
          type    = string
          default = "a"
        }

        resource "coder_agent" "main" {
          os   = data.coder_provisioner.me.os
          arch = data.coder_provisioner.me.arch
        }

        resource "coder_app" "web" {
          agent_id = coder_agent.main.id
          slug     = "web"
          url      = "http://localhost:8080"
        }

        resource "terraform_data" "box" {
          count = data.coder_workspace.me.start_count
          input = "${data.coder_workspace.me.name}-${data.coder_parameter.project.value}"
          # The agent runs on this resource: Coder attaches an agent to the resource that depends on it.
          triggers_replace = coder_agent.main.id
        }
        """;

    private FleetCoordinator Coordinator => fixture.Coordinator;

    [Fact(Timeout = 300_000)]
    public async Task DryRun_OfAnImportedVersion_PlansItsResourcesWithTheGivenValuesRoutedByWorkspaceTags_AndRefusesABadValue()
    {
        // Arrange: a daemon serving this test's tag and the template's workspace tags for region eu.
        var cancellationToken = TestContext.Current.CancellationToken;
        var test = FleetCoordinator.UniqueName("dry");
        var template = FleetCoordinator.UniqueName("preview");
        await using var daemon = Coordinator.StartDaemon(
            terraform.Directory, new Dictionary<string, string> { ["test"] = test, ["region"] = "eu", ["pool"] = "europe-a" }, configureTerraform: UseCoderMirror);
        await Coordinator.ImportTemplateAsync(template, RegionTemplate, new Dictionary<string, string> { ["test"] = test }, cancellationToken);
        var version = (await Coordinator.GetAsync($"/api/v1/templates/{template}/versions", cancellationToken)).EnumerateArray().Single().GetProperty("name").GetString();
        var path = $"/api/v1/templates/{template}/versions/{version}/dry-run";

        // Act and assert: a value the template's validation refuses is a 400 naming it, and queues nothing.
        using (var refused = await Coordinator.Admin.PostAsJsonAsync(path, new { rich_parameter_values = new[] { new { name = "project", value = "Bad1" } } }, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await refused.Content.ReadAsStringAsync(cancellationToken);
            Assert.Contains("rich_parameter_values.project", problem, StringComparison.Ordinal);
            Assert.Contains("Lowercase letters only.", problem, StringComparison.Ordinal);
        }

        // A good one: the dry run plans and stores what a build would create, and creates no workspace.
        using var started = await Coordinator.Admin.PostAsJsonAsync(
            path, new { rich_parameter_values = new[] { new { name = "project", value = "alpha" } }, workspace_name = "peek" }, cancellationToken);
        Assert.True(started.StatusCode == HttpStatusCode.Created, await started.Content.ReadAsStringAsync(cancellationToken));
        var dryRun = await started.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var jobId = dryRun.GetProperty("id").GetString()!;
        Assert.Equal("template_version_dry_run", dryRun.GetProperty("job").GetProperty("type").GetString());

        // Routed like the build it previews: the pushed tag, and the workspace tags evaluated with its values and the variable's default.
        Assert.Equal(["pool=europe-a", "region=eu", $"test={test}"], dryRun.GetProperty("job").GetProperty("tags").EnumerateObject().Select(tag => $"{tag.Name}={tag.Value.GetString()}"));
        Assert.Equal(["project=alpha", "region=eu"], dryRun.GetProperty("rich_parameter_values").EnumerateArray()
            .Select(value => $"{value.GetProperty("name").GetString()}={value.GetProperty("value").GetString()}").Order());
        FleetCoordinator.AssertSucceeded(await Coordinator.WaitForEndAsync(jobId, cancellationToken));

        var resources = (await Coordinator.GetAsync($"{path}/{jobId}/resources", cancellationToken)).EnumerateArray().ToList();
        var box = resources.Single(resource => resource.GetProperty("type").GetString() == "terraform_data");
        var agent = Assert.Single(box.GetProperty("agents").EnumerateArray());
        Assert.Equal("main", agent.GetProperty("name").GetString());
        Assert.Equal("web", Assert.Single(agent.GetProperty("apps").EnumerateArray()).GetProperty("slug").GetString());
        var logs = (await Coordinator.GetAsync($"{path}/{jobId}/logs", cancellationToken)).EnumerateArray()
            .Select(line => line.GetProperty("output").GetString()).ToList();
        Assert.Contains(logs, line => line!.Contains("terraform_data.box[0]", StringComparison.Ordinal));
        Assert.DoesNotContain((await Coordinator.GetAsync("/api/v1/workspaces", cancellationToken)).EnumerateArray(),
            workspace => workspace.GetProperty("template_name").GetString() == template);

        // The dry run is addressed through its own version only; an ended one cannot be canceled.
        using var elsewhere = await Coordinator.Admin.GetAsync($"/api/v1/templates/{template}/versions/nope/dry-run/{jobId}", cancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        using var cancel = await Coordinator.Admin.PostAsync($"{path}/{jobId}/cancel", null, cancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
    }

    [Fact(Timeout = 300_000)]
    public async Task Push_WithWorkspaceTags_RoutesTheImportByTheirDefaultsUnderThePushedTags_AndRefusesATagWithoutValue()
    {
        // Arrange: two daemons of this test, one per region, each offering the pool the template's tags name for it.
        var cancellationToken = TestContext.Current.CancellationToken;
        var test = FleetCoordinator.UniqueName("import");
        var template = FleetCoordinator.UniqueName("routed");
        await using var europe = Coordinator.StartDaemon(
            terraform.Directory, new Dictionary<string, string> { ["test"] = test, ["region"] = "eu", ["pool"] = "europe-a" },
            options => options.Name = test + "-eu", configureTerraform: UseCoderMirror);
        await using var world = Coordinator.StartDaemon(
            terraform.Directory, new Dictionary<string, string> { ["test"] = test, ["region"] = "us", ["pool"] = "world-a" },
            options => options.Name = test + "-us", configureTerraform: UseCoderMirror);

        // Act: a push with the test's tag only (the workspace tags' defaults route it: region eu, pool europe-a), one giving
        // the us daemon's tags (the pushed tags win), and one whose tag uses a parameter without a default.
        var byDefaults = await Coordinator.WaitForEndAsync(await Coordinator.PushTemplateAsync(template, RegionTemplate, new Dictionary<string, string> { ["test"] = test }, cancellationToken), cancellationToken);
        var byPushedTags = await Coordinator.WaitForEndAsync(await Coordinator.PushTemplateAsync(
            template, RegionTemplate, new Dictionary<string, string> { ["test"] = test, ["region"] = "us", ["pool"] = "world-a" }, cancellationToken), cancellationToken);
        var withoutDefault = RegionTemplate.Replace("\"region\" = data.coder_parameter.region.value", "\"owner\" = data.coder_parameter.who.value", StringComparison.Ordinal)
            + "\ndata \"coder_parameter\" \"who\" {\n  name = \"who\"\n}\n";
        using var content = new ByteArrayContent(await Templates.PackAsync(withoutDefault, cancellationToken));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-tar");
        using var upload = await Coordinator.Admin.PostAsync("/api/v1/files", content, cancellationToken);
        var hash = (await upload.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("hash").GetString();
        using var refused = await Coordinator.Admin.PostAsJsonAsync(
            $"/api/v1/templates/{template}/versions", new { file_hash = hash, provisioner_tags = new Dictionary<string, string> { ["test"] = test } }, cancellationToken);
        var problem = await refused.Content.ReadAsStringAsync(cancellationToken);
        var daemons = (await Coordinator.GetAsync("/api/v1/provisioners", cancellationToken)).EnumerateArray()
            .ToDictionary(daemon => daemon.GetProperty("id").GetString()!, daemon => daemon.GetProperty("name").GetString());
        var versions = (await Coordinator.GetAsync($"/api/v1/templates/{template}/versions", cancellationToken)).EnumerateArray().ToList();

        // Assert
        FleetCoordinator.AssertSucceeded(byDefaults);
        Assert.Equal(["pool=europe-a", "region=eu", $"test={test}"], Tags(byDefaults));
        Assert.Equal(test + "-eu", daemons[byDefaults.GetProperty("worker_id").GetString()!]);
        FleetCoordinator.AssertSucceeded(byPushedTags);
        Assert.Equal(["pool=world-a", "region=us", $"test={test}"], Tags(byPushedTags));
        Assert.Equal(test + "-us", daemons[byPushedTags.GetProperty("worker_id").GetString()!]);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("workspace_tags.owner", problem, StringComparison.Ordinal);
        Assert.Contains("data.coder_parameter.who has no default", problem, StringComparison.Ordinal);
        Assert.Equal(2, versions.Count);
    }

    private static List<string> Tags(JsonElement job) =>
        [.. job.GetProperty("tags").EnumerateObject().Select(tag => $"{tag.Name}={tag.Value.GetString()}")];

    private static void UseCoderMirror(Provisioning.Terraform.TerraformOptions options) =>
        options.ProviderMirrorDirectory = CoderProviderMirror.Shared.Directory;
}
