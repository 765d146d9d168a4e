using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Provisioning.Sdk.Daemon;

using Log = Provisioning.Sdk.Daemon.Log;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class JobApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<JsonElement> PushAsync(HttpClient admin, Dictionary<string, string> tags)
    {
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);
        using var response = await admin.PostAsJsonAsync($"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions", new { file_hash = hash, provisioner_tags = tags }, Token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ApiFixture.ReadAsync(response, Token)).GetProperty("job");
    }

    [Fact]
    public async Task ListPending_NoDaemonMatches_SaysWhyWithQueuePositionAndSize()
    {
        using var admin = await fixture.Server.AdminAsync();
        var region = ApiFixture.UniqueName("eu");
        var tags = new Dictionary<string, string> { ["region"] = region };
        var first = await PushAsync(admin, tags);
        var second = await PushAsync(admin, tags);

        var pending = await ApiFixture.GetJsonAsync(admin, "/api/v1/jobs?status=pending", Token);
        var shown = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{second.GetProperty("id").GetString()}", Token);

        var listed = Assert.Single(pending.EnumerateArray(), job => job.GetProperty("id").GetString() == first.GetProperty("id").GetString());
        Assert.All(pending.EnumerateArray(), job => Assert.Equal("pending", job.GetProperty("status").GetString()));
        Assert.Equal(1, listed.GetProperty("queue_position").GetInt32());
        Assert.Equal(2, listed.GetProperty("queue_size").GetInt32());
        Assert.Equal($"no provisioner matches tags {{\"region\":\"{region}\"}}", listed.GetProperty("waiting_reason").GetString());
        Assert.Equal(2, shown.GetProperty("queue_position").GetInt32());
    }

    [Fact]
    public async Task ListPending_MatchingDaemonOnline_HasNoWaitingReason()
    {
        using var admin = await fixture.Server.AdminAsync();
        var tags = new Dictionary<string, string> { ["test"] = ApiFixture.UniqueName("g") };
        await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), tags, Token);

        var job = await PushAsync(admin, tags);
        var shown = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job.GetProperty("id").GetString()}", Token);

        Assert.Equal(JsonValueKind.Null, shown.GetProperty("waiting_reason").ValueKind);
    }

    [Fact]
    public async Task List_UnknownStatus_Is400NamingStatus()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.GetAsync("/api/v1/jobs?status=sleeping", Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "status", Token);
    }

    [Fact]
    public async Task Cancel_PendingJob_IsCanceledAtOnce_RunningJobBecomesCanceling()
    {
        using var admin = await fixture.Server.AdminAsync();
        var tags = new Dictionary<string, string> { ["test"] = ApiFixture.UniqueName("g") };
        var pending = await PushAsync(admin, tags);
        var daemon = await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), tags, Token);

        using var canceled = await admin.PostAsync($"/api/v1/jobs/{pending.GetProperty("id").GetString()}/cancel", null, Token);
        var running = await PushAsync(admin, tags);
        var acquired = await fixture.Server.AcquireAsync(daemon, Token);
        using var canceling = await admin.PostAsync($"/api/v1/jobs/{running.GetProperty("id").GetString()}/cancel", null, Token);
        var update = await fixture.Server.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = acquired.JobId }, daemon, cancellationToken: Token);
        using var again = await admin.PostAsync($"/api/v1/jobs/{pending.GetProperty("id").GetString()}/cancel", null, Token);

        Assert.Equal("canceled", (await ApiFixture.ReadAsync(canceled, Token)).GetProperty("status").GetString());
        Assert.Equal(running.GetProperty("id").GetString(), acquired.JobId);
        Assert.Equal("canceling", (await ApiFixture.ReadAsync(canceling, Token)).GetProperty("status").GetString());
        Assert.True(update.Canceled);
        await ApiFixture.AssertProblemAsync(again, HttpStatusCode.Conflict, null, Token);
    }

    [Fact]
    public async Task Logs_PagedByCursor_ReturnOnlyLinesAfterIt()
    {
        using var admin = await fixture.Server.AdminAsync();
        var tags = new Dictionary<string, string> { ["test"] = ApiFixture.UniqueName("g") };
        var job = await PushAsync(admin, tags);
        var daemon = await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), tags, Token);
        var acquired = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.UpdateJobAsync(
            new UpdateJobRequest { JobId = acquired.JobId, Logs = { Line("one"), Line("two"), Line("three") } }, daemon, cancellationToken: Token);

        var all = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job.GetProperty("id").GetString()}/logs", Token);
        var cursor = all[0].GetProperty("id").GetInt64();
        var rest = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job.GetProperty("id").GetString()}/logs?after={cursor}", Token);

        Assert.Equal(["one", "two", "three"], all.EnumerateArray().Select(line => line.GetProperty("output").GetString()));
        Assert.Equal(["two", "three"], rest.EnumerateArray().Select(line => line.GetProperty("output").GetString()));
    }

    [Fact]
    public async Task Jobs_MemberCannotSeeAnotherUsersJob_Gets404()
    {
        using var admin = await fixture.Server.AdminAsync();
        var job = await PushAsync(admin, new Dictionary<string, string> { ["test"] = ApiFixture.UniqueName("g") });
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        using (member)
        {
            using var get = await member.GetAsync($"/api/v1/jobs/{job.GetProperty("id").GetString()}", Token);
            using var logs = await member.GetAsync($"/api/v1/jobs/{job.GetProperty("id").GetString()}/logs", Token);
            using var cancel = await member.PostAsync($"/api/v1/jobs/{job.GetProperty("id").GetString()}/cancel", null, Token);

            var listed = await ApiFixture.GetJsonAsync(member, "/api/v1/jobs", Token);
            var listedByAdmin = await ApiFixture.GetJsonAsync(admin, "/api/v1/jobs", Token);

            await ApiFixture.AssertProblemAsync(get, HttpStatusCode.NotFound, null, Token);
            Assert.DoesNotContain(listed.EnumerateArray(), item => item.GetProperty("id").GetString() == job.GetProperty("id").GetString());
            Assert.Contains(listedByAdmin.EnumerateArray(), item => item.GetProperty("id").GetString() == job.GetProperty("id").GetString());
            Assert.Equal(HttpStatusCode.NotFound, logs.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        }
    }

    [Fact]
    public async Task ProvisionerKeys_CreateListDelete_AndDaemonsShowBusyWithTheirJob()
    {
        using var admin = await fixture.Server.AdminAsync();
        var name = ApiFixture.UniqueName("k");
        var tags = new Dictionary<string, string> { ["test"] = ApiFixture.UniqueName("g") };

        using var created = await admin.PostAsJsonAsync("/api/v1/provisioner-keys", new { name, tags }, Token);
        using var duplicate = await admin.PostAsJsonAsync("/api/v1/provisioner-keys", new { name, tags }, Token);
        using var invalid = await admin.PostAsJsonAsync("/api/v1/provisioner-keys", new { name = ApiFixture.UniqueName("k"), tags = new Dictionary<string, string> { ["bad key"] = "x" } }, Token);
        var keys = await ApiFixture.GetJsonAsync(admin, "/api/v1/provisioner-keys", Token);
        var daemonName = ApiFixture.UniqueName("d");
        var daemon = await fixture.Server.RegisterDaemonAsync(daemonName, tags, Token);
        var job = await PushAsync(admin, tags);
        await fixture.Server.AcquireAsync(daemon, Token);
        var daemons = await ApiFixture.GetJsonAsync(admin, "/api/v1/provisioners", Token);
        using var deleted = await admin.DeleteAsync($"/api/v1/provisioner-keys/{name}", Token);
        using var deletedAgain = await admin.DeleteAsync($"/api/v1/provisioner-keys/{name}", Token);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains(".", (await ApiFixture.ReadAsync(created, Token)).GetProperty("key").GetString(), StringComparison.Ordinal);
        await ApiFixture.AssertProblemAsync(duplicate, HttpStatusCode.Conflict, null, Token);
        await ApiFixture.AssertProblemAsync(invalid, HttpStatusCode.BadRequest, "tags", Token);
        var key = Assert.Single(keys.EnumerateArray(), item => item.GetProperty("name").GetString() == name);
        Assert.False(key.TryGetProperty("key", out _));
        var shown = Assert.Single(daemons.EnumerateArray(), item => item.GetProperty("name").GetString() == daemonName);
        Assert.Equal("busy", shown.GetProperty("status").GetString());
        Assert.Equal(job.GetProperty("id").GetString(), shown.GetProperty("current_job").GetString());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
    }

    private static Log Line(string output) => new() { Source = LogSource.Provisioner, Level = Provisioning.Sdk.Protocol.LogLevel.Info, Stage = "test", Output = output };
}
