using System.Net;
using System.Net.Http.Json;

using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>Who may start, see and cancel a template version's dry run (issue 10 item 3), through the real REST API.</summary>
public sealed class DryRunApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DryRun_IsItsInitiators_OthersSeeItAsAbsent_TemplateAdminsReadButDoNotCancel_TheInitiatorCancels()
    {
        using var admin = await fixture.Server.AdminAsync();
        var template = ApiFixture.UniqueName("t");
        var import = new CompletedJob.Types.TemplateImport();
        import.RichParameters.Add(new RichParameter
        {
            Name = "region", Type = "string", DefaultValue = "eu",
            Options = { new RichParameterOption { Name = "Europe", Value = "eu" }, new RichParameterOption { Name = "US", Value = "us" } },
        });
        var (version, _) = await fixture.PushImportedTemplateAsync(admin, template, ApiFixture.UniqueName("g"), import, Token);
        var path = $"/api/v1/templates/{template}/versions/{version.GetProperty("name").GetString()}/dry-run";
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        var (other, _) = await fixture.Server.CreateUserAsync("member", Token);
        var (templateAdmin, _) = await fixture.Server.CreateUserAsync("template-admin", Token);
        using (member)
        using (other)
        using (templateAdmin)
        {
            using var refused = await member.PostAsJsonAsync(path, new { rich_parameter_values = new[] { new { name = "region", value = "mars" } } }, Token);
            using var started = await member.PostAsJsonAsync(path, new { rich_parameter_values = new[] { new { name = "region", value = "us" } } }, Token);
            var dryRun = await ApiFixture.ReadAsync(started, Token);
            var id = dryRun.GetProperty("id").GetString();
            using var hidden = await other.GetAsync($"{path}/{id}", Token);
            using var hiddenCancel = await other.PostAsync($"{path}/{id}/cancel", null, Token);
            using var read = await templateAdmin.GetAsync($"{path}/{id}/resources", Token);
            using var forbidden = await templateAdmin.PostAsync($"{path}/{id}/cancel", null, Token);
            using var canceled = await member.PostAsync($"{path}/{id}/cancel", null, Token);

            Assert.Contains("region", await ApiFixture.AssertProblemAsync(refused, HttpStatusCode.BadRequest, "rich_parameter_values.region", Token), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
            Assert.Equal("pending", dryRun.GetProperty("job").GetProperty("status").GetString());
            Assert.Equal("preview", dryRun.GetProperty("workspace_name").GetString());
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, hiddenCancel.StatusCode);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Contains("started dry run", await ApiFixture.AssertProblemAsync(forbidden, HttpStatusCode.Forbidden, null, Token), StringComparison.Ordinal);
            Assert.Equal("canceled", (await ApiFixture.ReadAsync(canceled, Token)).GetProperty("job").GetProperty("status").GetString());
        }
    }
}
