using System.Net;
using System.Net.Http.Json;
using System.Text;

using Google.Protobuf;

using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// The role rules (issue 9, item 7), checked through the REST API: template admins read anyone's workspaces
/// but change, build, cancel and replace the state of their own only; members see only their own.
/// </summary>
public sealed class AuthorizationApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A member's workspace whose first build succeeded with <paramref name="state"/>, and the member's pending stop build's job.</summary>
    private async Task<(HttpClient Member, string Owner, string Workspace, string PendingJob)> MemberWorkspaceAsync(byte[] state)
    {
        using var admin = await fixture.Server.AdminAsync();
        var template = ApiFixture.UniqueName("t");
        var (_, daemon) = await fixture.PushImportedTemplateAsync(admin, template, ApiFixture.UniqueName("g"), [], Token);
        var (member, owner) = await fixture.Server.CreateUserAsync("member", Token);
        var name = ApiFixture.UniqueName("w");
        using var created = await member.PostAsJsonAsync("/api/v1/workspaces", new { name, template }, Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var first = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob { JobId = first.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(state) } } },
            daemon,
            cancellationToken: Token);
        using var stop = await member.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "stop" }, Token);
        Assert.Equal(HttpStatusCode.Created, stop.StatusCode);
        var job = (await ApiFixture.ReadAsync(stop, Token)).GetProperty("job").GetProperty("id").GetString()!;
        return (member, owner, name, job);
    }

    [Fact]
    public async Task TemplateAdmin_CanReadAMembersWorkspaceAndState_ButCannotBuildCancelOrReplaceItsState()
    {
        var state = Encoding.UTF8.GetBytes("{\"version\":4,\"serial\":1}");
        var (member, owner, name, pendingJob) = await MemberWorkspaceAsync(state);
        var (templateAdmin, _) = await fixture.Server.CreateUserAsync("template-admin", Token);
        using (member)
        using (templateAdmin)
        {
            using var read = await templateAdmin.GetAsync($"/api/v1/workspaces/{name}?owner={owner}", Token);
            using var readState = await templateAdmin.GetAsync($"/api/v1/workspaces/{name}/builds/1/state?owner={owner}", Token);
            using var readJob = await templateAdmin.GetAsync($"/api/v1/jobs/{pendingJob}", Token);
            using var build = await templateAdmin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds?owner={owner}", new { transition = "delete" }, Token);
            using var cancel = await templateAdmin.PostAsync($"/api/v1/jobs/{pendingJob}/cancel", null, Token);
            using var putState = await templateAdmin.PutAsync($"/api/v1/workspaces/{name}/state?owner={owner}", new ByteArrayContent("{\"version\":4,\"serial\":666}"u8.ToArray()), Token);
            var jobAfter = await ApiFixture.GetJsonAsync(member, $"/api/v1/jobs/{pendingJob}", Token);
            var builds = await ApiFixture.GetJsonAsync(member, $"/api/v1/workspaces/{name}/builds", Token);

            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(HttpStatusCode.OK, readState.StatusCode);
            Assert.Equal(state, await readState.Content.ReadAsByteArrayAsync(Token));
            Assert.Equal(HttpStatusCode.OK, readJob.StatusCode);
            await ApiFixture.AssertProblemAsync(build, HttpStatusCode.Forbidden, null, Token);
            await ApiFixture.AssertProblemAsync(cancel, HttpStatusCode.Forbidden, null, Token);
            await ApiFixture.AssertProblemAsync(putState, HttpStatusCode.Forbidden, null, Token);
            Assert.Equal("pending", jobAfter.GetProperty("status").GetString());
            Assert.Equal(2, builds.GetArrayLength());
        }
    }

    [Fact]
    public async Task Member_CannotSeeOrTouchAnotherMembersWorkspaceJobOrState_Gets404()
    {
        var (alice, owner, name, pendingJob) = await MemberWorkspaceAsync("{\"version\":4}"u8.ToArray());
        var (bob, _) = await fixture.Server.CreateUserAsync("member", Token);
        using (alice)
        using (bob)
        {
            using var workspace = await bob.GetAsync($"/api/v1/workspaces/{name}?owner={owner}", Token);
            using var builds = await bob.GetAsync($"/api/v1/workspaces/{name}/builds?owner={owner}", Token);
            using var state = await bob.GetAsync($"/api/v1/workspaces/{name}/builds/1/state?owner={owner}", Token);
            using var putState = await bob.PutAsync($"/api/v1/workspaces/{name}/state?owner={owner}", new ByteArrayContent("{}"u8.ToArray()), Token);
            using var job = await bob.GetAsync($"/api/v1/jobs/{pendingJob}", Token);
            using var logs = await bob.GetAsync($"/api/v1/jobs/{pendingJob}/logs", Token);
            using var cancel = await bob.PostAsync($"/api/v1/jobs/{pendingJob}/cancel", null, Token);
            var jobs = await ApiFixture.GetJsonAsync(bob, "/api/v1/jobs", Token);
            var jobAfter = await ApiFixture.GetJsonAsync(alice, $"/api/v1/jobs/{pendingJob}", Token);

            await ApiFixture.AssertProblemAsync(workspace, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(builds, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(state, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(putState, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(job, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(logs, HttpStatusCode.NotFound, null, Token);
            await ApiFixture.AssertProblemAsync(cancel, HttpStatusCode.NotFound, null, Token);
            Assert.DoesNotContain(jobs.EnumerateArray(), item => item.GetProperty("id").GetString() == pendingJob);
            Assert.Equal("pending", jobAfter.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Owner_CanCancelOwnBuildJob_AdminCanCancelAnyone()
    {
        var (member, owner, name, pendingJob) = await MemberWorkspaceAsync("{\"version\":4}"u8.ToArray());
        using var admin = await fixture.Server.AdminAsync();
        using (member)
        {
            using var byOwner = await member.PostAsync($"/api/v1/jobs/{pendingJob}/cancel", null, Token);
            using var again = await member.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "stop" }, Token);
            var secondJob = (await ApiFixture.ReadAsync(again, Token)).GetProperty("job").GetProperty("id").GetString();
            using var byAdmin = await admin.PostAsync($"/api/v1/jobs/{secondJob}/cancel", null, Token);
            using var adminBuild = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds?owner={owner}", new { transition = "stop" }, Token);

            Assert.Equal("canceled", (await ApiFixture.ReadAsync(byOwner, Token)).GetProperty("status").GetString());
            Assert.Equal("canceled", (await ApiFixture.ReadAsync(byAdmin, Token)).GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.Created, adminBuild.StatusCode);
        }
    }

    [Fact]
    public async Task ImportJob_TemplateAdminMayCancel_MemberMayNot()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (templateAdmin, _) = await fixture.Server.CreateUserAsync("template-admin", Token);
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        using (templateAdmin)
        using (member)
        {
            var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);
            using var pushed = await admin.PostAsJsonAsync(
                $"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions",
                new { file_hash = hash, provisioner_tags = new Dictionary<string, string> { ["test"] = ApiFixture.UniqueName("g") } },
                Token);
            var job = (await ApiFixture.ReadAsync(pushed, Token)).GetProperty("job").GetProperty("id").GetString();

            using var byMember = await member.PostAsync($"/api/v1/jobs/{job}/cancel", null, Token);
            using var byTemplateAdmin = await templateAdmin.PostAsync($"/api/v1/jobs/{job}/cancel", null, Token);

            await ApiFixture.AssertProblemAsync(byMember, HttpStatusCode.NotFound, null, Token);
            Assert.Equal("canceled", (await ApiFixture.ReadAsync(byTemplateAdmin, Token)).GetProperty("status").GetString());
        }
    }
}
