using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;

using Microsoft.Playwright;

using Provisioning.Cli.Tests;
using Provisioning.Testing;

namespace Provisioning.Dashboard.Tests;

/// <summary>
/// One fleet (the CLI tests' fixture: `provisioning server`, a standalone daemon, templates/local pushed as `local`)
/// and one headless Debian Chromium driven by Playwright, shared by every dashboard test. Without Chromium the tests
/// skip with the reason, except under CI=true, where they fail (.ci/run installs it).
/// </summary>
public sealed class DashboardFixture : CliFleetFixture
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>The admin token the server wrote on its first start.</summary>
    public string AdminToken { get; private set; } = string.Empty;

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public string? Missing { get; private set; }

    /// <summary>Screenshots of each page, under the test results directory (scripts/test.sh's PROVISIONING_TEST_RESULTS).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(
        Environment.GetEnvironmentVariable("PROVISIONING_TEST_RESULTS") is { Length: > 0 } results ? results : Path.Combine(SharedFolder.RepositoryRoot, "TestResults"),
        "dashboard-screenshots");

    public override async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            Missing = $"Chromium is not installed at {ChromiumPath}: apt-get install chromium (.ci/run does).";
            return;
        }

        if (!OperatingSystem.IsLinux())
        {
            Missing = "The fleet fixture runs on Linux only.";
            return;
        }

        await base.InitializeAsync();
        AdminToken = (await File.ReadAllTextAsync(Path.Combine(Home, "session"))).Trim();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_playwright is not null)
        {
            await Browser.CloseAsync();
            _playwright.Dispose();
        }

        if (Missing is null)
        {
            await base.DisposeAsync();
        }
    }

    /// <summary>Skips the calling test where the browser is missing, fails it under CI=true.</summary>
    public void RequireBrowser()
    {
        if (Missing is null)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail(Missing);
        }

        Assert.Skip(Missing);
    }

    /// <summary>A new browser context (its own cookies) signed in through the sign-in page with <paramref name="token"/>.</summary>
    public async Task<IPage> SignInAsync(string token)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Url, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/workspaces");
        Assert.EndsWith("/login?returnUrl=%2Fworkspaces", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/workspaces");
        return page;
    }

    /// <summary>A user created through the API by the admin; returns their first token.</summary>
    public async Task<string> CreateUserAsync(string username, string role)
    {
        using var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await client.PostAsJsonAsync("/api/v1/users", new { username, email = username + "@example.com", role });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("session_token").GetString()!;
    }

    /// <summary>Saves a full-page screenshot as <c>{name}.png</c> and checks the page with axe: no serious or critical violation.</summary>
    public static async Task CheckPageAsync(IPage page, string name)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });
        var results = await page.RunAxe();
        var serious = results.Violations.Where(violation => violation.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{name}: accessibility violations:\n" + string.Join("\n", serious.Select(Describe)));
    }

    private static string Describe(AxeResultItem violation) =>
        $"{violation.Impact} {violation.Id}: {violation.Help} at {string.Join(", ", violation.Nodes.Select(node => node.Target?.ToString()))}";
}
