using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// Parameters, presets, timings and orphaned deletes through the real REST API, with a daemon simulated over real gRPC
/// (it reports the import's parameters and presets, and completes builds), as issue 10 items 2, 5, 6 and 7 ask.
/// </summary>
public sealed class WorkspaceParameterApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>cpus: number 1..8, increasing; region: immutable, eu or us; reset: ephemeral bool.</summary>
    private static CompletedJob.Types.TemplateImport Import()
    {
        var import = new CompletedJob.Types.TemplateImport();
        import.RichParameters.Add(new RichParameter { Name = "cpus", DisplayName = "CPUs", Type = "number", DefaultValue = "2", Mutable = true, ValidationMin = 1, ValidationMax = 8, ValidationMonotonic = "increasing" });
        import.RichParameters.Add(new RichParameter
        {
            Name = "region", Type = "string", Required = true, Mutable = false,
            Options = { new RichParameterOption { Name = "Europe", Value = "eu" }, new RichParameterOption { Name = "US", Value = "us" } },
        });
        import.RichParameters.Add(new RichParameter { Name = "reset", Type = "bool", DefaultValue = "false", Mutable = true, Ephemeral = true });
        import.HasExternalAgents = true;
        import.Presets.Add(new Preset
        {
            Name = "big",
            Description = "Eight cores in the US",
            Icon = "/icon/rocket.svg",
            Parameters = { new PresetParameter { Name = "cpus", Value = "8" }, new PresetParameter { Name = "region", Value = "us" } },
            Prebuild = new Prebuild
            {
                Instances = 2,
                ExpirationPolicy = new ExpirationPolicy { Ttl = 86400 },
                Scheduling = new Scheduling { Timezone = "Europe/Paris", Schedule = { new Schedule { Cron = "* 9-17 * * 1-5", Instances = 4 } } },
            },
        });
        import.Presets.Add(new Preset { Name = "small", Default = true, Parameters = { new PresetParameter { Name = "cpus", Value = "1" } } });
        return import;
    }

    private async Task<(string Template, string Version, Metadata Daemon)> TemplateAsync(HttpClient admin)
    {
        var template = ApiFixture.UniqueName("t");
        var (version, daemon) = await fixture.PushImportedTemplateAsync(admin, template, ApiFixture.UniqueName("g"), Import(), Token);
        return (template, version.GetProperty("name").GetString()!, daemon);
    }

    private static object Values(params (string Name, string Value)[] values) => values.Select(value => new { name = value.Name, value = value.Value });

    private static Dictionary<string, string> ToDictionary(IEnumerable<RichParameterValue> values) => values.ToDictionary(value => value.Name, value => value.Value);

    private async Task CompleteAsync(Metadata daemon, AcquiredJob job, params Timing[] timings) =>
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob
            {
                JobId = job.JobId,
                WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("{\"version\":4}") }, Timings = { timings } },
            },
            daemon,
            cancellationToken: Token);

    [Fact]
    public async Task Builds_ValidateLikeCoder_RefuseBadValuesWithNothingQueued_AndPassPreviousValuesButNotEphemeralOnes()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        using var created = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template, rich_parameter_values = Values(("cpus", "4"), ("region", "eu"), ("reset", "true")) }, Token);
        var first = await fixture.Server.AcquireAsync(daemon, Token);
        await CompleteAsync(daemon, first);

        using var lower = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "start", rich_parameter_values = Values(("cpus", "2")) }, Token);
        using var tooMany = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "start", rich_parameter_values = Values(("cpus", "9")) }, Token);
        using var moved = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "start", rich_parameter_values = Values(("region", "us")) }, Token);
        using var bogus = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "start", rich_parameter_values = Values(("reset", "maybe")) }, Token);
        var buildsAfterRefusals = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/builds", Token);
        using var good = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "start", rich_parameter_values = Values(("cpus", "6")) }, Token);
        var second = await fixture.Server.AcquireAsync(daemon, Token);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(new Dictionary<string, string> { ["cpus"] = "4", ["region"] = "eu", ["reset"] = "true" }, ToDictionary(first.WorkspaceBuild.RichParameterValues));
        Assert.Empty(first.WorkspaceBuild.PreviousParameterValues);
        Assert.Contains(
            "can't validate build parameter \"CPUs\": parameter value '2' must be equal or greater than previous value: 4",
            await ApiFixture.AssertProblemAsync(lower, HttpStatusCode.BadRequest, "rich_parameter_values.cpus", Token), StringComparison.Ordinal);
        Assert.Contains("value 9 is more than the maximum 8", await ApiFixture.AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, "rich_parameter_values.cpus", Token), StringComparison.Ordinal);
        Assert.Contains(
            "Parameter \"region\" is not mutable, so it can't be updated after creating a workspace",
            await ApiFixture.AssertProblemAsync(moved, HttpStatusCode.BadRequest, "rich_parameter_values.region", Token), StringComparison.Ordinal);
        Assert.Contains("boolean value can be either \"true\" or \"false\"", await ApiFixture.AssertProblemAsync(bogus, HttpStatusCode.BadRequest, "rich_parameter_values.reset", Token), StringComparison.Ordinal);
        Assert.Equal(1, buildsAfterRefusals.GetArrayLength());
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        Assert.Equal(2, second.WorkspaceBuild.Metadata.WorkspaceBuildNumber);
        // The ephemeral value lasted one build; the others are inherited; the previous build's values travel for the provider's monotonic check.
        Assert.Equal(new Dictionary<string, string> { ["cpus"] = "6", ["region"] = "eu", ["reset"] = "false" }, ToDictionary(second.WorkspaceBuild.RichParameterValues));
        Assert.Equal(new Dictionary<string, string> { ["cpus"] = "4", ["region"] = "eu", ["reset"] = "true" }, ToDictionary(second.WorkspaceBuild.PreviousParameterValues));
    }

    [Fact]
    public async Task CreateWorkspace_ValueNotAnOption_Is400ListingTheOptions_AndCreatesNothing()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");

        using var response = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template, rich_parameter_values = Values(("region", "mars")) }, Token);
        using var lookup = await admin.GetAsync($"/api/v1/workspaces/{name}", Token);

        Assert.Contains("parameter value must match one of options: [eu us]", await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "rich_parameter_values.region", Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task TemplateVersion_ShowsParameterValidationAndPresets_AndPresetsAreListed()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, version, _) = await TemplateAsync(admin);

        var shown = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{template}/versions/{version}", Token);
        var presets = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{template}/versions/{version}/presets", Token);

        Assert.True(shown.GetProperty("has_external_agents").GetBoolean());
        var cpus = shown.GetProperty("parameters").EnumerateArray().Single(parameter => parameter.GetProperty("name").GetString() == "cpus");
        Assert.Equal(1, cpus.GetProperty("validation_min").GetInt32());
        Assert.Equal(8, cpus.GetProperty("validation_max").GetInt32());
        Assert.Equal("increasing", cpus.GetProperty("validation_monotonic").GetString());
        var region = shown.GetProperty("parameters").EnumerateArray().Single(parameter => parameter.GetProperty("name").GetString() == "region");
        Assert.Equal(["eu", "us"], region.GetProperty("options").EnumerateArray().Select(option => option.GetProperty("value").GetString()));
        Assert.Equal(["big", "small"], presets.EnumerateArray().Select(preset => preset.GetProperty("name").GetString()));
        var big = presets.EnumerateArray().First();
        Assert.False(big.GetProperty("default").GetBoolean());
        Assert.Equal(
            new Dictionary<string, string?> { ["cpus"] = "8", ["region"] = "us" },
            big.GetProperty("parameters").EnumerateArray().ToDictionary(item => item.GetProperty("name").GetString()!, item => item.GetProperty("value").GetString()));
        Assert.Equal(("Eight cores in the US", "/icon/rocket.svg"), (big.GetProperty("description").GetString(), big.GetProperty("icon").GetString()));
        Assert.Equal((2, 86400), (big.GetProperty("prebuild_instances").GetInt32(), big.GetProperty("prebuild_ttl_seconds").GetInt32()));
        var scheduling = big.GetProperty("prebuild_scheduling");
        Assert.Equal("Europe/Paris", scheduling.GetProperty("timezone").GetString());
        var schedule = Assert.Single(scheduling.GetProperty("schedules").EnumerateArray());
        Assert.Equal(("* 9-17 * * 1-5", 4), (schedule.GetProperty("cron").GetString(), schedule.GetProperty("instances").GetInt32()));
        var small = presets.EnumerateArray().Last();
        Assert.True(small.GetProperty("default").GetBoolean());
        Assert.Equal("", small.GetProperty("description").GetString());
        Assert.Equal(JsonValueKind.Null, small.GetProperty("prebuild_scheduling").ValueKind);
        Assert.Equal(JsonValueKind.Null, small.GetProperty("prebuild_ttl_seconds").ValueKind);
    }

    [Fact]
    public async Task CreateWorkspace_WithPreset_AppliesItsValues_UnknownPresetIs400NamingThePresets()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");

        using var unknown = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template, template_version_preset = "huge" }, Token);
        using var created = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template, template_version_preset = "big" }, Token);
        var job = await fixture.Server.AcquireAsync(daemon, Token);

        Assert.Contains("has no preset 'huge'; it has: big, small", await ApiFixture.AssertProblemAsync(unknown, HttpStatusCode.BadRequest, "template_version_preset", Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(new Dictionary<string, string> { ["cpus"] = "8", ["region"] = "us", ["reset"] = "false" }, ToDictionary(job.WorkspaceBuild.RichParameterValues));
    }

    [Fact]
    public async Task BuildTimings_SplitStagesFromResources_InTheOrderTheyStarted()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        using var created = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template, rich_parameter_values = Values(("region", "eu")) }, Token);
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Timing Span(string stage, string action, string resource, int from, int to) => new()
        {
            Stage = stage, Action = action, Source = resource.Length == 0 ? "terraform" : "null", Resource = resource, State = TimingState.Completed,
            Start = Timestamp.FromDateTimeOffset(at.AddSeconds(from)), End = Timestamp.FromDateTimeOffset(at.AddSeconds(to)),
        };

        await CompleteAsync(daemon, job, Span("apply", "terraform apply", "", 10, 14), Span("init", "terraform init", "", 0, 3), Span("apply", "create", "terraform_data.dev", 11, 13));
        var timings = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/builds/1/timings", Token);
        using var missing = await admin.GetAsync($"/api/v1/workspaces/{name}/builds/7/timings", Token);

        Assert.Equal(job.JobId, timings.GetProperty("job_id").GetString());
        Assert.Equal(["init", "apply"], timings.GetProperty("stages").EnumerateArray().Select(stage => stage.GetProperty("stage").GetString()));
        Assert.Equal([3.0, 4.0], timings.GetProperty("stages").EnumerateArray().Select(stage => stage.GetProperty("duration_seconds").GetDouble()));
        var resource = Assert.Single(timings.GetProperty("resources").EnumerateArray());
        Assert.Equal("terraform_data.dev", resource.GetProperty("resource").GetString());
        Assert.Equal("create", resource.GetProperty("action").GetString());
        Assert.Equal(2.0, resource.GetProperty("duration_seconds").GetDouble());
        await ApiFixture.AssertProblemAsync(missing, HttpStatusCode.NotFound, null, Token);
    }

    [Fact]
    public async Task DeleteOrphan_MemberIsRefused_TemplateAdminRemovesTheWorkspaceWithoutATerraformRun()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, daemon) = await TemplateAsync(admin);
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        var (templateAdmin, _) = await fixture.Server.CreateUserAsync("template-admin", Token);
        using (member)
        using (templateAdmin)
        {
            var mine = ApiFixture.UniqueName("w");
            var theirs = ApiFixture.UniqueName("w");
            using var memberCreated = await member.PostAsJsonAsync("/api/v1/workspaces", new { name = mine, template, rich_parameter_values = Values(("region", "eu")) }, Token);
            await CompleteAsync(daemon, await fixture.Server.AcquireAsync(daemon, Token));
            using var adminCreated = await templateAdmin.PostAsJsonAsync("/api/v1/workspaces", new { name = theirs, template, rich_parameter_values = Values(("region", "eu")) }, Token);
            await CompleteAsync(daemon, await fixture.Server.AcquireAsync(daemon, Token));

            using var refused = await member.PostAsJsonAsync($"/api/v1/workspaces/{mine}/builds", new { transition = "delete", orphan = true }, Token);
            using var notDelete = await templateAdmin.PostAsJsonAsync($"/api/v1/workspaces/{theirs}/builds", new { transition = "stop", orphan = true }, Token);
            using var orphaned = await templateAdmin.PostAsJsonAsync($"/api/v1/workspaces/{theirs}/builds", new { transition = "delete", orphan = true }, Token);
            using var gone = await templateAdmin.GetAsync($"/api/v1/workspaces/{theirs}", Token);
            using var stillThere = await member.GetAsync($"/api/v1/workspaces/{mine}", Token);

            Assert.Contains("needs the 'template-admin' role", await ApiFixture.AssertProblemAsync(refused, HttpStatusCode.Forbidden, null, Token), StringComparison.Ordinal);
            Assert.Contains("only permitted when deleting", await ApiFixture.AssertProblemAsync(notDelete, HttpStatusCode.BadRequest, "orphan", Token), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Created, orphaned.StatusCode);
            var build = await ApiFixture.ReadAsync(orphaned, Token);
            Assert.Equal("delete", build.GetProperty("transition").GetString());
            Assert.Equal("orphan", build.GetProperty("reason").GetString());
            Assert.Equal("succeeded", build.GetProperty("job").GetProperty("status").GetString());
            // The last state stays with the orphaning build, so whoever cleans up by hand can still read what existed.
            Assert.True(build.GetProperty("has_state").GetBoolean());
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        }
    }
}
