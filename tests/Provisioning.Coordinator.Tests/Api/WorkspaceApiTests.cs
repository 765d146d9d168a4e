using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

using Google.Protobuf;

using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class WorkspaceApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly RichParameter[] RegionParameter =
    [
        new() { Name = "region", Type = "string", Required = true },
        new() { Name = "size", Type = "string", DefaultValue = "small", Mutable = true },
    ];

    private async Task<(string Template, Metadata Daemon)> TemplateAsync(HttpClient admin)
    {
        var template = ApiFixture.UniqueName("t");
        var (_, daemon) = await fixture.PushImportedTemplateAsync(admin, template, ApiFixture.UniqueName("g"), RegionParameter, Token);
        return (template, daemon);
    }

    private static Task<HttpResponseMessage> CreateWorkspaceAsync(HttpClient client, string name, string template, params (string Name, string Value)[] parameters) =>
        client.PostAsJsonAsync(
            "/api/v1/workspaces",
            new { name, template, rich_parameter_values = parameters.Select(parameter => new { name = parameter.Name, value = parameter.Value }) },
            Token);

    [Fact]
    public async Task CreateWorkspace_BuildsStartWithParametersAndMetadata_ThenResourcesShowInTheView()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");

        using var created = await CreateWorkspaceAsync(admin, name, template, ("region", "eu"));
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        var resource = new Resource { Name = "dev", Type = "terraform_data", Metadata = { new Resource.Types.Metadata { Key = "owner", Value = "me" } } };
        resource.Agents.Add(new Agent { Name = "main", OperatingSystem = "linux", Architecture = "amd64", Apps = { new App { Slug = "code", DisplayName = "Code", Url = "http://localhost:8080" } } });
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob
            {
                JobId = job.JobId,
                WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("{\"version\":4}") }, Resources = { resource } },
            },
            daemon,
            cancellationToken: Token);
        var workspace = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}", Token);
        var list = await ApiFixture.GetJsonAsync(admin, "/api/v1/workspaces", Token);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(name, job.WorkspaceBuild.Metadata.WorkspaceName);
        Assert.Equal(1, job.WorkspaceBuild.Metadata.WorkspaceBuildNumber);
        Assert.Equal(WorkspaceTransition.Start, job.WorkspaceBuild.Metadata.WorkspaceTransition);
        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu", ["size"] = "small" }, job.WorkspaceBuild.RichParameterValues.ToDictionary(value => value.Name, value => value.Value));
        Assert.Null(job.WorkspaceBuild.State);
        var latest = workspace.GetProperty("latest_build");
        Assert.Equal(1, latest.GetProperty("build_number").GetInt32());
        Assert.Equal("succeeded", latest.GetProperty("job").GetProperty("status").GetString());
        Assert.True(latest.GetProperty("has_state").GetBoolean());
        var shown = Assert.Single(workspace.GetProperty("resources").EnumerateArray());
        Assert.Equal("dev", shown.GetProperty("name").GetString());
        Assert.Equal("me", Assert.Single(shown.GetProperty("metadata").EnumerateArray()).GetProperty("value").GetString());
        var agent = Assert.Single(shown.GetProperty("agents").EnumerateArray());
        Assert.Equal("code", Assert.Single(agent.GetProperty("apps").EnumerateArray()).GetProperty("slug").GetString());
        Assert.Contains(list.EnumerateArray(), item => item.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task CompletedBuild_WithScriptOrderAndADevcontainer_ShowsDependenciesAndTheSubagentsResources()
    {
        // Arrange: a build whose agent has ordered scripts and a devcontainer with its own app, scripts and variable.
        using var admin = await fixture.Server.AdminAsync();
        var (template, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        using var created = await CreateWorkspaceAsync(admin, name, template, ("region", "eu"));
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        var agent = new Agent { Name = "main", OperatingSystem = "linux", Architecture = "amd64" };
        agent.Scripts.Add(new Script { DisplayName = "Clone", Script_ = "git clone", RunOnStart = true, ResourceAddress = "coder_script.clone" });
        agent.Scripts.Add(new Script
        {
            DisplayName = "Install", Script_ = "make", RunOnStart = true, StartBlocksLogin = true, TimeoutSeconds = 60, ResourceAddress = "coder_script.install",
            Dependencies = { new ScriptDependency { PrerequisiteResourceAddress = "coder_script.clone", Requirement = ScriptDependencyRequirement.Success } },
        });
        agent.Devcontainers.Add(new Devcontainer
        {
            Name = "dev", WorkspaceFolder = "/workspace", ConfigPath = "/workspace/.devcontainer/devcontainer.json",
            Id = "eb9b7f18-c277-48af-af7c-2a8e5fb42bab", SubagentId = "4caa8ad6-8f8d-4c0f-9a8c-64f28bfc6cf0",
            Apps = { new App { Slug = "dc-app", DisplayName = "Devcontainer app", Url = "http://localhost:3000", SharingLevel = AppSharingLevel.Authenticated } },
            Scripts =
            {
                new Script { DisplayName = "Setup", Script_ = "echo setup", RunOnStart = true, ResourceAddress = "coder_script.dc_setup" },
                new Script
                {
                    DisplayName = "Run", Script_ = "echo run", RunOnStart = true, ResourceAddress = "coder_script.dc_run",
                    Dependencies = { new ScriptDependency { PrerequisiteResourceAddress = "coder_script.dc_setup", Requirement = ScriptDependencyRequirement.Completion } },
                },
            },
            Envs = { new Env { Name = "IN_DEVCONTAINER", Value = "secret-ish", MergeStrategy = "append" } },
        });
        var resource = new Resource { Name = "dev", Type = "terraform_data", Agents = { agent } };

        // Act
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob
            {
                JobId = job.JobId,
                WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("{\"version\":4}") }, Resources = { resource } },
            },
            daemon,
            cancellationToken: Token);
        var workspace = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}", Token);

        // Assert
        var shown = Assert.Single(Assert.Single(workspace.GetProperty("resources").EnumerateArray()).GetProperty("agents").EnumerateArray());
        var scripts = shown.GetProperty("scripts").EnumerateArray().ToDictionary(script => script.GetProperty("resource_address").GetString()!);
        Assert.Empty(scripts["coder_script.clone"].GetProperty("dependencies").EnumerateArray());
        var install = scripts["coder_script.install"];
        Assert.True(install.GetProperty("start_blocks_login").GetBoolean());
        Assert.Equal(60, install.GetProperty("timeout_seconds").GetInt32());
        Assert.False(install.TryGetProperty("script", out _), "a script's body is not shown");
        var dependency = Assert.Single(install.GetProperty("dependencies").EnumerateArray());
        Assert.Equal("coder_script.clone", dependency.GetProperty("prerequisite_resource_address").GetString());
        Assert.Equal("success", dependency.GetProperty("requirement").GetString());

        var devcontainer = Assert.Single(shown.GetProperty("devcontainers").EnumerateArray());
        Assert.Equal("dev", devcontainer.GetProperty("name").GetString());
        Assert.Equal("/workspace", devcontainer.GetProperty("workspace_folder").GetString());
        Assert.Equal("/workspace/.devcontainer/devcontainer.json", devcontainer.GetProperty("config_path").GetString());
        Assert.Equal("4caa8ad6-8f8d-4c0f-9a8c-64f28bfc6cf0", devcontainer.GetProperty("subagent_id").GetString());
        var app = Assert.Single(devcontainer.GetProperty("apps").EnumerateArray());
        Assert.Equal(("dc-app", "authenticated", "http://localhost:3000"), (app.GetProperty("slug").GetString(), app.GetProperty("sharing_level").GetString(), app.GetProperty("url").GetString()));
        var run = devcontainer.GetProperty("scripts").EnumerateArray().Single(script => script.GetProperty("resource_address").GetString() == "coder_script.dc_run");
        var runDependency = Assert.Single(run.GetProperty("dependencies").EnumerateArray());
        Assert.Equal(("coder_script.dc_setup", "completion"), (runDependency.GetProperty("prerequisite_resource_address").GetString(), runDependency.GetProperty("requirement").GetString()));
        var env = Assert.Single(devcontainer.GetProperty("envs").EnumerateArray());
        Assert.Equal(("IN_DEVCONTAINER", "append"), (env.GetProperty("name").GetString(), env.GetProperty("merge_strategy").GetString()));
        Assert.DoesNotContain("secret-ish", workspace.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateBuild_CarriesPreviousStateAndParameters_AndSecondActiveBuildIs409()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        using var created = await CreateWorkspaceAsync(admin, name, template, ("region", "us"));
        var first = await fixture.Server.AcquireAsync(daemon, Token);
        var state = Encoding.UTF8.GetBytes("{\"version\":4,\"serial\":1}");
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob { JobId = first.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(state) } } },
            daemon,
            cancellationToken: Token);

        using var stop = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "stop" }, Token);
        using var second = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "start" }, Token);
        var stopJob = await fixture.Server.AcquireAsync(daemon, Token);
        var builds = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/builds", Token);
        var build2 = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/builds/2", Token);
        var stateOfBuild1 = await admin.GetByteArrayAsync($"/api/v1/workspaces/{name}/builds/1/state", Token);

        Assert.Equal(HttpStatusCode.Created, stop.StatusCode);
        Assert.Equal(2, (await ApiFixture.ReadAsync(stop, Token)).GetProperty("build_number").GetInt32());
        var detail = await ApiFixture.AssertProblemAsync(second, HttpStatusCode.Conflict, null, Token);
        Assert.Contains("active build", detail, StringComparison.Ordinal);
        Assert.Equal(WorkspaceTransition.Stop, stopJob.WorkspaceBuild.Metadata.WorkspaceTransition);
        Assert.Equal("us", Assert.Single(stopJob.WorkspaceBuild.RichParameterValues, value => value.Name == "region").Value);
        Assert.Equal(state.Length, stopJob.WorkspaceBuild.State.File.Size);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(state)), stopJob.WorkspaceBuild.State.File.Sha256);
        Assert.Equal(2, builds.GetArrayLength());
        Assert.Equal("stop", build2.GetProperty("transition").GetString());
        Assert.Equal(state, stateOfBuild1);
    }

    [Fact]
    public async Task CreateWorkspace_MissingRequiredParameter_Is400NamingItAndCreatesNothing()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");

        using var response = await CreateWorkspaceAsync(admin, name, template, ("size", "large"));
        using var lookup = await admin.GetAsync($"/api/v1/workspaces/{name}", Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "rich_parameter_values.region", Token);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task CreateWorkspace_UnknownTemplate_Is400NamingTemplate()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await CreateWorkspaceAsync(admin, ApiFixture.UniqueName("w"), ApiFixture.UniqueName("none"));

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "template", Token);
    }

    [Fact]
    public async Task CreateWorkspace_InvalidName_Is400NamingName()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await CreateWorkspaceAsync(admin, "Bad_Name", "whatever");

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "name", Token);
    }

    [Fact]
    public async Task CreateBuild_UnknownTransition_Is400()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{ApiFixture.UniqueName("w")}/builds", new { transition = "restart" }, Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "transition", Token);
    }

    [Fact]
    public async Task Member_CannotSeeAnotherMembersWorkspaceOrState_Gets404_ButTemplateAdminCanReadIt()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _) = await TemplateAsync(admin);
        var (alice, aliceName) = await fixture.Server.CreateUserAsync("member", Token);
        var (bob, _) = await fixture.Server.CreateUserAsync("member", Token);
        var (templateAdmin, _) = await fixture.Server.CreateUserAsync("template-admin", Token);
        using (alice)
        using (bob)
        using (templateAdmin)
        {
            var name = ApiFixture.UniqueName("w");
            using var created = await CreateWorkspaceAsync(alice, name, template, ("region", "eu"));

            using var bobGet = await bob.GetAsync($"/api/v1/workspaces/{name}?owner={aliceName}", Token);
            using var bobState = await bob.GetAsync($"/api/v1/workspaces/{name}/builds/1/state?owner={aliceName}", Token);
            using var bobBuild = await bob.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds?owner={aliceName}", new { transition = "stop" }, Token);
            var bobList = await ApiFixture.GetJsonAsync(bob, "/api/v1/workspaces", Token);
            using var adminGet = await templateAdmin.GetAsync($"/api/v1/workspaces/{name}?owner={aliceName}", Token);
            using var aliceGet = await alice.GetAsync($"/api/v1/workspaces/{name}", Token);

            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await ApiFixture.AssertProblemAsync(bobGet, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(bobState, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(bobBuild, HttpStatusCode.NotFound, null, Token);
            Assert.DoesNotContain(bobList.EnumerateArray(), item => item.GetProperty("name").GetString() == name);
            Assert.Equal(HttpStatusCode.OK, adminGet.StatusCode);
            Assert.Equal(HttpStatusCode.OK, aliceGet.StatusCode);
        }
    }

    [Fact]
    public async Task PutState_Admin_RecordsANewBuildWithThatStateWithoutAJobToRun_MemberIsRefused()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, daemon) = await TemplateAsync(admin);
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        using (member)
        {
            var name = ApiFixture.UniqueName("w");
            using var created = await CreateWorkspaceAsync(member, name, template, ("region", "eu"));
            var job = await fixture.Server.AcquireAsync(daemon, Token);
            await fixture.Server.Daemons.CompleteJobAsync(
                new CompletedJob { JobId = job.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild() }, daemon, cancellationToken: Token);
            var me = await ApiFixture.GetJsonAsync(member, "/api/v1/users/me", Token);
            var owner = me.GetProperty("username").GetString();
            var state = "{\"version\":4,\"serial\":7}"u8.ToArray();

            using var byMember = await member.PutAsync($"/api/v1/workspaces/{name}/state", new ByteArrayContent(state), Token);
            using var byAdmin = await admin.PutAsync($"/api/v1/workspaces/{name}/state?owner={owner}", new ByteArrayContent(state), Token);
            var build = await ApiFixture.ReadAsync(byAdmin, Token);
            var stored = await member.GetByteArrayAsync($"/api/v1/workspaces/{name}/builds/2/state", Token);

            await ApiFixture.AssertProblemAsync(byMember, HttpStatusCode.Forbidden, null, Token);
            Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);
            Assert.Equal(2, build.GetProperty("build_number").GetInt32());
            Assert.Equal("succeeded", build.GetProperty("job").GetProperty("status").GetString());
            Assert.Equal(state, stored);
        }
    }

    [Fact]
    public async Task DeleteBuild_Succeeded_WorkspaceIsGone()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, daemon) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        using var created = await CreateWorkspaceAsync(admin, name, template, ("region", "eu"));
        var first = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(new CompletedJob { JobId = first.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild() }, daemon, cancellationToken: Token);

        using var delete = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "delete" }, Token);
        var deleteJob = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(new CompletedJob { JobId = deleteJob.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild() }, daemon, cancellationToken: Token);
        using var lookup = await admin.GetAsync($"/api/v1/workspaces/{name}", Token);

        Assert.Equal(HttpStatusCode.Created, delete.StatusCode);
        Assert.Equal(WorkspaceTransition.Destroy, deleteJob.WorkspaceBuild.Metadata.WorkspaceTransition);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }
}
