using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

using Microsoft.Playwright;

using Provisioning.Testing;

using static Microsoft.Playwright.Assertions;

namespace Provisioning.Dashboard.Tests;

/// <summary>
/// The dashboard in a real browser against a real fleet (server, daemon, Terraform, templates/local): what a user does
/// without the CLI. Each test signs in its own browser context and uses its own names; every page it visits is
/// checked with axe and saved as a screenshot.
/// </summary>
public sealed class DashboardTests(DashboardFixture fleet) : IClassFixture<DashboardFixture>
{
    /// <summary>A Terraform build of templates/local takes seconds; this bounds a wait, it asserts no speed.</summary>
    private static readonly LocatorAssertionsToHaveTextOptions BuildWait = new() { Timeout = 180_000 };

    [Fact]
    public async Task SignIn_WithBadThenAdminToken_RefusesThenShowsWorkspacesAndSignsOut()
    {
        fleet.RequireBrowser();
        var context = await fleet.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fleet.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await DashboardFixture.CheckPageAsync(page, "login");
        await page.GetByLabel("API token").FillAsync("abcdefghij-" + new string('x', 32));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not valid");

        await page.GetByLabel("API token").FillAsync(fleet.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/workspaces");
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "provisioning_session_token");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.NotEqual(fleet.AdminToken, cookie.Value);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Hangfire" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/login");
        await page.GotoAsync("/workspaces");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        await context.CloseAsync();
    }

    [Fact]
    public async Task SignInLink_SignsInOnce_ThenIsRefused()
    {
        fleet.RequireBrowser();
        using var client = new HttpClient { BaseAddress = new Uri(fleet.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fleet.AdminToken);
        using var created = await client.PostAsync("/api/v1/users/me/sign-in-links", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var path = JsonDocument.Parse(await created.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("path").GetString()!;

        var context = await fleet.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fleet.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        await page.WaitForURLAsync("**/workspaces");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();

        var other = await fleet.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fleet.Url });
        var second = await other.NewPageAsync();
        Assert.Equal(401, (await second.GotoAsync(path))!.Status);
        await Expect(second.GetByRole(AriaRole.Alert)).ToContainTextAsync("used already");
        await context.CloseAsync();
        await other.CloseAsync();
    }

    [Fact]
    public async Task Workspace_CreatedThroughTheForm_StreamsItsLogUntilSucceeded_ThenStopsAndDeletes()
    {
        fleet.RequireBrowser();
        var page = await fleet.SignInAsync(fleet.AdminToken);
        var name = "dash-" + Guid.NewGuid().ToString("N")[..6];

        await page.GotoAsync("/workspaces/new?template=local");
        await DashboardFixture.CheckPageAsync(page, "workspace-new");
        // The server's validation, shown beside the field: nothing is created.
        await page.GetByLabel("Workspace name").FillAsync("Not A Name");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await Expect(page.Locator(".field-error")).ToContainTextAsync("not a valid");

        // A preview plans the template with the form's values (a dry run) and lists the resources, creating nothing.
        await page.GetByLabel("Workspace name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview resources" }).ClickAsync();
        await Expect(page.Locator("#preview-title .status")).ToHaveTextAsync("succeeded", BuildWait);
        await Expect(page.Locator("ul.preview")).ToContainTextAsync("terraform_data.home");
        await Expect(page.GetByLabel("Workspace name")).ToHaveValueAsync(name);
        await DashboardFixture.CheckPageAsync(page, "workspace-preview");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await page.WaitForURLAsync($"**/workspaces/admin/{name}/builds/1");
        // The log streams while the build runs; the page shows the outcome once the stream says the job ended.
        await Expect(page.Locator(".log-count")).ToContainTextAsync("lines", new() { Timeout = 60_000 });
        await Expect(page.Locator(".heading .status")).ToHaveTextAsync("succeeded", BuildWait);
        await Expect(page.Locator(".log-count")).ToContainTextAsync("· succeeded");
        await Expect(page.Locator(".log-line.stage").First).ToBeAttachedAsync();
        await Expect(page.Locator(".waterfall svg rect").First).ToBeAttachedAsync();
        await DashboardFixture.CheckPageAsync(page, "build");

        await page.GotoAsync($"/workspaces/admin/{name}");
        await Expect(page.Locator(".heading .status")).ToHaveTextAsync("running");
        await Expect(page.Locator(".card").First).ToBeVisibleAsync();
        await DashboardFixture.CheckPageAsync(page, "workspace");
        await page.GotoAsync("/workspaces");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToBeVisibleAsync();
        await DashboardFixture.CheckPageAsync(page, "workspaces");

        await page.GotoAsync($"/workspaces/admin/{name}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Stop" }).ClickAsync();
        await DashboardFixture.CheckPageAsync(page, "workspace-confirm-stop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, stop" }).ClickAsync();
        await page.WaitForURLAsync($"**/workspaces/admin/{name}/builds/2");
        await Expect(page.Locator(".heading .status")).ToHaveTextAsync("succeeded", BuildWait);
        await page.GotoAsync($"/workspaces/admin/{name}");
        await Expect(page.Locator(".heading .status")).ToHaveTextAsync("stopped");

        await page.GetByRole(AriaRole.Link, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete" }).ClickAsync();
        await page.WaitForURLAsync($"**/workspaces/admin/{name}/builds/3");
        // Once the delete succeeded the workspace (and its pages) are gone: the build page goes to the list.
        await page.WaitForURLAsync("**/workspaces", new() { Timeout = 180_000 });
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToHaveCountAsync(0);
        Assert.Equal(404, (await page.GotoAsync($"/workspaces/admin/{name}"))!.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task PendingJob_ShowsWhyItWaitsOnTheFleetPage_AndIsCanceledFromTheJobsPage()
    {
        fleet.RequireBrowser();
        // A template whose jobs need a tag no daemon offers: its import waits, and says why.
        var template = "mars-" + Guid.NewGuid().ToString("N")[..6];
        using var push = fleet.StartDetached("templates", "push", template, "-d", Path.Combine(SharedFolder.RepositoryRoot, "templates", "local"),
            "--variable", $"workspaces_root={fleet.WorkspacesRoot}", "--provisioner-tag", "planet=mars", "-y");
        var page = await fleet.SignInAsync(fleet.AdminToken);
        var job = await WaitForPendingImportAsync(template);

        await page.GotoAsync("/fleet");
        var queue = page.Locator("tr", new() { HasText = "planet=mars" });
        await Expect(queue.Locator(".waiting-reason")).ToContainTextAsync("no provisioner matches tags");
        await Expect(page.Locator("tr", new() { HasText = "cli-tests" })).ToContainTextAsync("online");
        await Expect(page.Locator(".chart svg")).ToBeVisibleAsync();
        await DashboardFixture.CheckPageAsync(page, "fleet");

        // Hangfire, for admins, names the job by what it is rather than by its marker method.
        await page.GetByRole(AriaRole.Link, new() { Name = "Hangfire" }).ClickAsync();
        await page.GotoAsync("/hangfire/jobs/enqueued");
        await Expect(page.GetByText($"template_version_import: {template} ").First).ToBeVisibleAsync();

        await page.GotoAsync("/jobs?status=pending");
        await DashboardFixture.CheckPageAsync(page, "jobs");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Cancel job {job.ToString()[..8]}" }).ClickAsync();
        await page.GotoAsync($"/jobs/{job}");
        await Expect(page.Locator(".heading .status")).ToHaveTextAsync("canceled");
        await DashboardFixture.CheckPageAsync(page, "job");

        await page.GotoAsync($"/templates/{template}");
        await Expect(page.Locator("tbody .status").First).ToHaveTextAsync("canceled");
        await page.GotoAsync("/templates/local");
        await Expect(page.Locator(".readme")).ToBeVisibleAsync();
        await DashboardFixture.CheckPageAsync(page, "template");
        await page.GotoAsync("/templates");
        await DashboardFixture.CheckPageAsync(page, "templates");
        await page.Context.CloseAsync();
        Assert.NotEqual(0, (await Provisioning.Cli.Tests.CliFleetFixture.CollectAsync(push, Provisioning.Cli.Tests.CliFleetFixture.CommandTimeout)).ExitCode);
    }

    [Fact]
    public async Task Member_GetsNotFound_OnAnotherUsersWorkspacePage()
    {
        fleet.RequireBrowser();
        var name = "adm-" + Guid.NewGuid().ToString("N")[..6];
        await fleet.RunCheckedAsync("create", name, "-t", "local", "-y");
        var member = await fleet.CreateUserAsync("member-" + Guid.NewGuid().ToString("N")[..6], "member");

        var admin = await fleet.SignInAsync(fleet.AdminToken);
        Assert.Equal(200, (await admin.GotoAsync($"/workspaces/admin/{name}"))!.Status);
        var page = await fleet.SignInAsync(member);
        var response = await page.GotoAsync($"/workspaces/admin/{name}");
        Assert.Equal(404, response!.Status);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        Assert.Equal(404, (await page.GotoAsync($"/workspaces/admin/{name}/builds/1"))!.Status);
        await page.GotoAsync("/workspaces");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Hangfire" })).ToHaveCountAsync(0);
        await admin.Context.CloseAsync();
        await page.Context.CloseAsync();
        await fleet.RunCheckedAsync("delete", name, "-y");
    }

    private async Task<Guid> WaitForPendingImportAsync(string template)
    {
        using var client = new HttpClient { BaseAddress = new Uri(fleet.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fleet.AdminToken);
        for (var attempt = 0; attempt < 600; attempt++)
        {
            using var response = await client.GetAsync($"/api/v1/templates/{template}/versions");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var versions = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                if (versions.GetArrayLength() > 0 && versions[0].GetProperty("job").GetProperty("status").GetString() == "pending")
                {
                    return versions[0].GetProperty("job").GetProperty("id").GetGuid();
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The import of {template} was not queued within a minute.");
    }
}
