using System.Text.Json;

namespace Provisioning.Cli.Tests;

/// <summary>`provisioning server` alone is a working fleet: its in-process daemon runs imports and builds.</summary>
public sealed class ServerBuiltInDaemonTests(BuiltInDaemonFixture fleet) : IClassFixture<BuiltInDaemonFixture>
{
    [Fact]
    public async Task Server_WithBuiltInDaemon_RunsImportsAndBuildsAndStopsOnCtrlC()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Signals processes: Linux only.");
        }

        var daemons = JsonDocument.Parse((await fleet.RunCheckedAsync("provisioner", "list", "-o", "json")).Stdout).RootElement;
        var created = await fleet.RunAsync("create", "built-in", "-t", "local", "-y");
        var deleted = await fleet.RunAsync("delete", "built-in", "-y");
        var exitCode = await fleet.StopServerAsync();

        var daemon = Assert.Single(daemons.EnumerateArray());
        Assert.StartsWith("built-in@", daemon.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, daemon.GetProperty("slots").GetInt32());
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains(fleet.Url + "/api/v1", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(fleet.Home, "session"), fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains("built-in daemon with 2 slot(s)", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains("provisioning provisioner start --url", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Equal(0, exitCode);
    }
}
