using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// `provisioning server` alone is a working fleet: its in-process daemon runs imports and builds, with Terraform and with
/// a provisioner binary given by --provisioner NAME=PATH (the echo example).
/// </summary>
public sealed partial class ServerBuiltInDaemonTests(BuiltInDaemonFixture fleet) : IClassFixture<BuiltInDaemonFixture>
{
    [Fact]
    public async Task Server_WithBuiltInDaemonAndAnEchoBinary_RunsImportsAndBuildsOnBoth_AndStopsBothOnCtrlC()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Signals processes: Linux only.");
        }

        var daemons = JsonDocument.Parse((await fleet.RunCheckedAsync("provisioner", "list", "-o", "json")).Stdout).RootElement;
        var created = await fleet.RunAsync("create", "built-in", "-t", "local", "-y");
        var deleted = await fleet.RunAsync("delete", "built-in", "-y");

        // The echo binary: a template pushed for it (untagged, like the built-in daemon) is imported and built there.
        var pushedEcho = await fleet.RunAsync(
            "templates", "push", "hello", "-d", Path.Combine(SharedFolder.RepositoryRoot, "examples", "echo-provisioner", "sample"),
            "--provisioner", "echo", "--variable", "size=large", "-y");
        var createdEcho = await fleet.RunAsync("create", "hi", "-t", "hello", "-y");
        var echoPid = int.Parse(StartedEcho().Match(fleet.ServerOutput).Groups["pid"].Value, CultureInfo.InvariantCulture);
        var echoEnvironment = (await File.ReadAllTextAsync($"/proc/{echoPid.ToString(CultureInfo.InvariantCulture)}/environ", TestContext.Current.CancellationToken)).Split('\0');

        var exitCode = await fleet.StopServerAsync();

        var daemon = Assert.Single(daemons.EnumerateArray());
        Assert.StartsWith("built-in@", daemon.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, daemon.GetProperty("slots").GetInt32());
        Assert.Equal(["terraform", "echo"], daemon.GetProperty("provisioners").EnumerateArray().Select(entry => entry.GetString()));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.True(pushedEcho.ExitCode == 0 && pushedEcho.Stdout.Contains("and active", StringComparison.Ordinal), pushedEcho.ToString());
        Assert.True(createdEcho.ExitCode == 0 && createdEcho.Stdout.Contains("hello from admin/hi (start, build 1)", StringComparison.Ordinal), createdEcho.ToString());
        Assert.Contains(fleet.Url + "/api/v1", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(fleet.Home, "session"), fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains($"built-in daemon with 2 slot(s), untagged: terraform, echo ({Path.GetFullPath(BuiltInDaemonFixture.EchoExecutable)}, outside the sandbox)", fleet.ServerOutput, StringComparison.Ordinal);
        Assert.Contains("provisioning provisioner start --url", fleet.ServerOutput, StringComparison.Ordinal);

        // The binary gets none of the server's own settings (PROVISIONING_HOME here; the database URL or keys elsewhere), and the lifeline's variable.
        Assert.Contains("PROVISIONING_EXIT_WITH_STDIN=1", echoEnvironment);
        Assert.DoesNotContain(echoEnvironment, variable => variable.StartsWith("PROVISIONING_HOME=", StringComparison.Ordinal));
        Assert.Equal(0, exitCode);
        Assert.False(Directory.Exists($"/proc/{echoPid.ToString(CultureInfo.InvariantCulture)}") && !IsZombie(echoPid), $"The echo provisioner {echoPid} still runs after the server stopped.");
    }

    [Fact]
    public async Task Server_WithProvisionerBinaryButNoBuiltInDaemon_RefusesToStart()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Runs the CLI built for Linux tests.");
        }

        var result = await fleet.RunAsync("server", "--provisioner-daemons", "0", "--provisioner", $"echo={BuiltInDaemonFixture.EchoExecutable}");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--provisioner-daemons 0 turns that daemon off", result.Stderr, StringComparison.Ordinal);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true; // Gone between the two reads.
        }
    }

    [GeneratedRegex(@"Started the echo provisioner \S+ \(pid (?<pid>\d+)\)")]
    private static partial Regex StartedEcho();
}
