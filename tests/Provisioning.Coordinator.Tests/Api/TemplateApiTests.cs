using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class TemplateApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PushVersion_NewTemplate_CreatesTemplateAndImportJobCarryingTheValues_NotActiveWithoutActivate()
    {
        using var admin = await fixture.Server.AdminAsync();
        var name = ApiFixture.UniqueName("t");
        var tag = ApiFixture.UniqueName("g");
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);

        using var response = await admin.PostAsJsonAsync(
            $"/api/v1/templates/{name}/versions",
            new { file_hash = hash, user_variable_values = new[] { new { name = "size", value = "large" } }, provisioner_tags = new Dictionary<string, string> { ["test"] = tag }, message = "hello" },
            Token);
        var version = await ApiFixture.ReadAsync(response, Token);
        var template = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}", Token);
        var daemon = await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), new Dictionary<string, string> { ["test"] = tag }, Token);
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(new CompletedJob { JobId = job.JobId, TemplateImport = new CompletedJob.Types.TemplateImport() }, daemon, cancellationToken: Token);
        var afterImport = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}/versions/v1", Token);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("v1", version.GetProperty("name").GetString());
        Assert.Equal("hello", version.GetProperty("message").GetString());
        Assert.Equal("template_version_import", version.GetProperty("job").GetProperty("type").GetString());
        Assert.Equal("pending", version.GetProperty("job").GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, template.GetProperty("active_version_id").ValueKind);
        Assert.Equal(version.GetProperty("job").GetProperty("id").GetString(), job.JobId);
        Assert.Equal(hash, job.TemplateSourceArchive.File.Sha256);
        Assert.Equal("large", Assert.Single(job.TemplateImport.UserVariableValues).Value);
        Assert.Equal(name, job.TemplateImport.Metadata.TemplateName);
        Assert.Equal("succeeded", afterImport.GetProperty("job").GetProperty("status").GetString());
        Assert.False(afterImport.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task PushVersion_ImportSucceedsWithActivate_VersionBecomesActiveWithItsParameters()
    {
        using var admin = await fixture.Server.AdminAsync();
        var name = ApiFixture.UniqueName("t");

        await fixture.PushImportedTemplateAsync(admin, name, ApiFixture.UniqueName("g"), [new RichParameter { Name = "region", Type = "string", Required = true }], Token);
        var template = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}", Token);
        var versions = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}/versions", Token);
        var all = await ApiFixture.GetJsonAsync(admin, "/api/v1/templates", Token);

        var version = Assert.Single(versions.EnumerateArray());
        Assert.Equal("v1", template.GetProperty("active_version_name").GetString());
        Assert.True(version.GetProperty("active").GetBoolean());
        Assert.Equal("succeeded", version.GetProperty("job").GetProperty("status").GetString());
        Assert.Equal("region", Assert.Single(version.GetProperty("parameters").EnumerateArray()).GetProperty("name").GetString());
        Assert.Contains(all.EnumerateArray(), item => item.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task PushVersion_WithoutActivate_StaysInactiveUntilActivated_AndFailedImportCannotBeActivated()
    {
        using var admin = await fixture.Server.AdminAsync();
        var name = ApiFixture.UniqueName("t");
        var tag = ApiFixture.UniqueName("g");
        var (_, daemon) = await fixture.PushImportedTemplateAsync(admin, name, tag, [], Token);
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);
        var tags = new Dictionary<string, string> { ["test"] = tag };

        using var second = await admin.PostAsJsonAsync($"/api/v1/templates/{name}/versions", new { file_hash = hash, name = "second", provisioner_tags = tags }, Token);
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(new CompletedJob { JobId = job.JobId, TemplateImport = new CompletedJob.Types.TemplateImport() }, daemon, cancellationToken: Token);
        var afterImport = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}", Token);
        using var third = await admin.PostAsJsonAsync($"/api/v1/templates/{name}/versions", new { file_hash = hash, name = "broken", provisioner_tags = tags, activate = true }, Token);
        var failing = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.FailJobAsync(new FailedJob { JobId = failing.JobId, Error = "syntax error", TemplateImport = new FailedJob.Types.TemplateImport() }, daemon, cancellationToken: Token);
        using var activate = await admin.PatchAsync($"/api/v1/templates/{name}/versions/second/activate", null, Token);
        using var activateBroken = await admin.PatchAsync($"/api/v1/templates/{name}/versions/broken/activate", null, Token);
        var afterActivate = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}", Token);

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("v1", afterImport.GetProperty("active_version_name").GetString());
        Assert.Equal(HttpStatusCode.OK, activate.StatusCode);
        await ApiFixture.AssertProblemAsync(activateBroken, HttpStatusCode.Conflict, null, Token);
        Assert.Equal("second", afterActivate.GetProperty("active_version_name").GetString());
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    [InlineData("a-name-that-is-far-too-long-for-the-rule")]
    public async Task PushVersion_InvalidTemplateName_Is400NamingNameAndCreatesNothing(string name)
    {
        using var admin = await fixture.Server.AdminAsync();
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);

        using var response = await admin.PostAsJsonAsync($"/api/v1/templates/{name}/versions", new { file_hash = hash }, Token);
        using var lookup = await admin.GetAsync($"/api/v1/templates/{name}", Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "name", Token);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task PushVersion_InvalidTag_Is400NamingProvisionerTagsAndCreatesNothing()
    {
        using var admin = await fixture.Server.AdminAsync();
        var name = ApiFixture.UniqueName("t");
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);

        using var response = await admin.PostAsJsonAsync(
            $"/api/v1/templates/{name}/versions", new { file_hash = hash, provisioner_tags = new Dictionary<string, string> { ["bad key!"] = "x" } }, Token);
        using var lookup = await admin.GetAsync($"/api/v1/templates/{name}", Token);

        var detail = await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "provisioner_tags", Token);
        Assert.Contains("bad key!", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    /// <summary>
    /// Variables are known only once a daemon parsed the template, so a missing required one cannot be refused
    /// at push time: the import stops at the daemon's first report, and the job says which value to give.
    /// </summary>
    [Fact]
    public async Task PushVersion_MissingRequiredVariable_ImportFailsNamingTheVariable_AndVersionCannotBeActivated()
    {
        using var admin = await fixture.Server.AdminAsync();
        var name = ApiFixture.UniqueName("t");
        var tag = ApiFixture.UniqueName("g");
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);
        using var pushed = await admin.PostAsJsonAsync(
            $"/api/v1/templates/{name}/versions", new { file_hash = hash, activate = true, provisioner_tags = new Dictionary<string, string> { ["test"] = tag } }, Token);
        var daemon = await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), new Dictionary<string, string> { ["test"] = tag }, Token);
        var job = await fixture.Server.AcquireAsync(daemon, Token);

        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await fixture.Server.Daemons.UpdateJobAsync(
            new UpdateJobRequest { JobId = job.JobId, TemplateVariables = { new TemplateVariable { Name = "api_key", Type = "string", Required = true } } },
            daemon,
            cancellationToken: Token));
        await fixture.Server.Daemons.FailJobAsync(
            new FailedJob { JobId = job.JobId, Error = refused.Status.Detail, TemplateImport = new FailedJob.Types.TemplateImport() }, daemon, cancellationToken: Token);
        var shown = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{job.JobId}", Token);
        var template = await ApiFixture.GetJsonAsync(admin, $"/api/v1/templates/{name}", Token);

        Assert.Equal("failed", shown.GetProperty("status").GetString());
        Assert.Contains("api_key", shown.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, template.GetProperty("active_version_id").ValueKind);
    }

    [Fact]
    public async Task PushVersion_RepeatedVariable_Is400NamingUserVariableValues()
    {
        using var admin = await fixture.Server.AdminAsync();
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);

        using var response = await admin.PostAsJsonAsync(
            $"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions",
            new { file_hash = hash, user_variable_values = new[] { new { name = "a", value = "1" }, new { name = "a", value = "2" } } },
            Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "user_variable_values", Token);
    }

    [Fact]
    public async Task PushVersion_MalformedJson_Is400Problem()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.PostAsync(
            $"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions", new StringContent("{\"file_hash\": ", System.Text.Encoding.UTF8, "application/json"), Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, null, Token);
    }

    [Fact]
    public async Task PushVersion_UnknownFile_Is400NamingFileHash()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.PostAsJsonAsync($"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions", new { file_hash = new string('a', 64) }, Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "file_hash", Token);
    }

    [Fact]
    public async Task PushVersion_ByMember_Is403()
    {
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        using (member)
        {
            using var response = await member.PostAsJsonAsync($"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions", new { file_hash = new string('a', 64) }, Token);

            await ApiFixture.AssertProblemAsync(response, HttpStatusCode.Forbidden, null, Token);
        }
    }

    [Fact]
    public async Task GetTemplate_Unknown_Is404()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.GetAsync($"/api/v1/templates/{ApiFixture.UniqueName("none")}", Token);
        using var versions = await admin.GetAsync($"/api/v1/templates/{ApiFixture.UniqueName("none")}/versions", Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.NotFound, null, Token);
        Assert.Equal(HttpStatusCode.NotFound, versions.StatusCode);
    }
}
