namespace Provisioning.Cli.Tests;

/// <summary>Where the built-in daemon cannot sandbox templates, the server says so at start and in /readyz, and still serves.</summary>
public sealed class UnsandboxedServerTests(UnsandboxedServerFixture fleet) : IClassFixture<UnsandboxedServerFixture>
{
    [Fact]
    public async Task Server_BubblewrapMissing_WarnsAtStartAndInReadyzButStaysReady()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Starts real processes of the Linux build: Linux only.");
        }

        // The warnings describe the deployment: /readyz shows them to an admin only.
        using var client = new HttpClient { BaseAddress = new Uri(fleet.Url) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Bearer", (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), TestContext.Current.CancellationToken)).Trim());
        using var ready = await client.GetAsync(new Uri("/readyz", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.StartsWith("ready\n", body, StringComparison.Ordinal);
        Assert.Contains("warning: built-in provisioner daemon: Terraform runs WITHOUT a sandbox", body, StringComparison.Ordinal);
        Assert.Contains(UnsandboxedServerFixture.MissingBubblewrap, body, StringComparison.Ordinal);
        Assert.Contains("provisioning provisioner start", body, StringComparison.Ordinal);
        Assert.Contains("warning: built-in provisioner daemon: Terraform runs WITHOUT a sandbox", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains("admin token", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains("Isolation:      NONE", fleet.ServerOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_BubblewrapMissing_BuildsStillRunAndSayTheyAreUnsandboxed()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Starts real processes of the Linux build: Linux only.");
        }

        var created = await fleet.RunAsync("create", "unsandboxed", "-t", "local", "-y");
        var deleted = await fleet.RunAsync("delete", "unsandboxed", "-y");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains("Terraform runs WITHOUT a sandbox", created.Output, StringComparison.Ordinal);
    }
}
