using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// `provisioning provisioner start --provisioner NAME=PATH`: the daemon runs a provisioner binary (the echo example),
/// templates pushed with `--provisioner NAME` reach it through the real coordinator, and the daemon supervises it
/// (started again when it dies, stopped with the daemon, and the daemon stops when it keeps dying).
/// </summary>
public sealed partial class ExternalProvisionerTests(CliFleetFixture fleet) : IClassFixture<CliFleetFixture>
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    private static string EchoExecutable { get; } = typeof(ExternalProvisionerTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "EchoProvisionerExecutable").Value!;

    [Fact(Timeout = 300_000)]
    public async Task ProvisionerStart_WithTheEchoBinary_BuildsAWorkspaceOfATemplatePushedForIt_AndRestartsTheBinaryWhenItDies()
    {
        SkipUnlessLinux();
        var name = "echo" + Guid.NewGuid().ToString("N")[..8];
        var output = new StringBuilder();
        var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", name, "--tag", $"test={name}")).Stdout.Trim();
        using var daemon = fleet.StartLongRunning(
            ["provisioner", "start", "--url", fleet.Url, "--name", name, "--cache-dir", Path.Combine(fleet.Home, name), "--provisioner", $"echo={EchoExecutable}"],
            new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key },
            output);
        try
        {
            var firstPid = await WaitForStartedPidAsync(output, 1, daemon);
            var push = await fleet.RunCheckedAsync(
                "templates", "push", name, "-d", Path.Combine(SharedFolder.RepositoryRoot, "examples", "echo-provisioner", "sample"),
                "--provisioner", "echo", "--provisioner-tag", $"test={name}", "--variable", "size=large", "-y");
            var created = await fleet.RunCheckedAsync("create", name + "-ws", "-t", name, "-y");
            var listed = await fleet.RunCheckedAsync("provisioner", "list", "-o", "json");
            var shown = JsonDocument.Parse((await fleet.RunCheckedAsync("show", name + "-ws", "-o", "json")).Stdout).RootElement;

            // The binary dies: the daemon starts it again and the next build runs on the new one.
            Process.GetProcessById(firstPid).Kill();
            var secondPid = await WaitForStartedPidAsync(output, 2, daemon);
            var stopped = await fleet.RunCheckedAsync("stop", name + "-ws", "-y");

            // SIGTERM: the daemon drains, then stops the binary.
            var exitCode = await CliFleetFixture.SignalAndWaitAsync(daemon, "TERM");

            var listedDaemon = Assert.Single(JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray(), entry => entry.GetProperty("name").GetString() == name);
            Assert.Equal(["terraform", "echo"], listedDaemon.GetProperty("provisioners").EnumerateArray().Select(entry => entry.GetString()));
            Assert.True(push.Stdout.Contains("imported", StringComparison.Ordinal) && push.Stdout.Contains("and active", StringComparison.Ordinal), push.ToString());
            Assert.True(created.Stdout.Contains("hello from admin/" + name + "-ws (start, build 1)", StringComparison.Ordinal), created.ToString());
            var resources = shown.GetProperty("resources").EnumerateArray().Select(resource => resource.GetProperty("type").GetString() + "." + resource.GetProperty("name").GetString()).ToList();
            Assert.Contains("echo_machine.box", resources);
            Assert.Contains("echo_volume.home", resources);
            Assert.NotEqual(firstPid, secondPid);
            Assert.Contains($"The echo provisioner (pid {firstPid.ToString(CultureInfo.InvariantCulture)}) exited", Output(output), StringComparison.Ordinal);
            Assert.Contains("(stop, build 2)", stopped.Stdout, StringComparison.Ordinal);
            Assert.True(exitCode == 0, $"The daemon exited with {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "a kill"}:\n{Output(output)}");
            Assert.False(IsAlive(secondPid), $"The echo provisioner {secondPid} still runs after its daemon stopped.");
            // Stopped gracefully (SIGTERM), not killed: it logged its own stop.
            Assert.Contains("[echo] info: Provisioning.Examples.EchoProvisioner[5] Echo provisioner stopped", Output(output), StringComparison.Ordinal);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task ProvisionerStart_KilledWithSigkill_TheBinaryItStartedStopsByItself()
    {
        SkipUnlessLinux();
        var name = "lifeline" + Guid.NewGuid().ToString("N")[..8];
        var output = new StringBuilder();
        var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", name, "--tag", $"test={name}")).Stdout.Trim();
        using var daemon = fleet.StartLongRunning(
            ["provisioner", "start", "--url", fleet.Url, "--name", name, "--cache-dir", Path.Combine(fleet.Home, name), "--provisioner", $"echo={EchoExecutable}"],
            new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key },
            output);
        var pid = 0;
        string? socket = null;
        try
        {
            pid = await WaitForStartedPidAsync(output, 1, daemon);
            socket = StartedLine().Matches(Output(output))[0].Groups["socket"].Value;
            Assert.True(IsRunning(pid), $"The echo provisioner {pid} is not running after its start:\n{Output(output)}");

            // Act: SIGKILL the daemon alone (not its process tree): none of its code runs to stop the binary.
            daemon.Kill(entireProcessTree: false);
            await daemon.WaitForExitAsync(TestContext.Current.CancellationToken);

            // Assert: the binary ends by itself (its end of the daemon's pipe closed), gracefully: it removed its socket.
            var deadline = DateTimeOffset.UtcNow + StepTimeout;
            while (IsRunning(pid) && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            Assert.False(IsRunning(pid), $"The echo provisioner {pid} still runs {StepTimeout} after its daemon was killed:\n{Output(output)}");
            Assert.False(File.Exists(socket), $"The echo provisioner did not stop gracefully: its socket {socket} is left.");
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
            }

            if (pid != 0 && IsRunning(pid))
            {
                Process.GetProcessById(pid).Kill();
            }

            // The killed daemon could not remove the binary's private socket directory.
            if (Path.GetDirectoryName(socket) is { Length: > 0 } socketDirectory && Directory.Exists(socketDirectory))
            {
                Directory.Delete(socketDirectory, recursive: true);
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task ProvisionerStart_WithABinaryThatKeepsDying_StopsWithExitCode4AndSaysWhy()
    {
        SkipUnlessLinux();
        var name = "dying" + Guid.NewGuid().ToString("N")[..8];
        var directory = Directory.CreateDirectory(Path.Combine(fleet.Home, name)).FullName;
        // Serves for a few seconds, then dies with its child: each start succeeds, every run ends.
        var script = Path.Combine(directory, "dying-provisioner");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\n'{EchoExecutable}' \"$@\" &\nchild=$!\nsleep 3\nkill -9 $child\necho 'dying on purpose'\nexit 7\n", TestContext.Current.CancellationToken);
        MakeExecutable(script);
        var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", name, "--tag", $"test={name}")).Stdout.Trim();
        var output = new StringBuilder();
        using var daemon = fleet.StartLongRunning(
            ["provisioner", "start", "--url", fleet.Url, "--name", name, "--cache-dir", Path.Combine(directory, "cache"), "--provisioner", $"dying={script}"],
            new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key },
            output);
        try
        {
            using var timeout = new CancellationTokenSource(StepTimeout);
            await daemon.WaitForExitAsync(timeout.Token);

            Assert.True(daemon.ExitCode == 4, $"The daemon exited with {daemon.ExitCode}:\n{Output(output)}");
            Assert.Contains("exited 4 times within 5 minutes (last exit code 7)", Output(output), StringComparison.Ordinal);
            Assert.Contains("dying on purpose", Output(output), StringComparison.Ordinal);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task ProvisionerStart_WithABinaryThatDoesNotServe_FailsBeforeRegistering()
    {
        SkipUnlessLinux();
        var name = "broken" + Guid.NewGuid().ToString("N")[..8];
        var directory = Directory.CreateDirectory(Path.Combine(fleet.Home, name)).FullName;
        var script = Path.Combine(directory, "broken-provisioner");
        await File.WriteAllTextAsync(script, "#!/bin/sh\necho 'no socket for you' >&2\nexit 3\n", TestContext.Current.CancellationToken);
        MakeExecutable(script);
        var key = (await fleet.RunCheckedAsync("provisioner", "keys", "create", name, "--tag", $"test={name}")).Stdout.Trim();

        var result = await fleet.RunAsync(
            ["provisioner", "start", "--url", fleet.Url, "--name", name, "--cache-dir", Path.Combine(directory, "cache"), "--provisioner", $"broken={script}"],
            new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key });
        var missing = await fleet.RunAsync(
            ["provisioner", "start", "--url", fleet.Url, "--name", name, "--provisioner", $"broken={script}-missing"],
            new Dictionary<string, string> { ["PROVISIONING_PROVISIONER_KEY"] = key });

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("The broken provisioner cannot run, so the daemon did not register", result.ToString(), StringComparison.Ordinal);
        Assert.Contains("exited with code 3 before it served", result.ToString(), StringComparison.Ordinal);
        Assert.Contains("no socket for you", result.ToString(), StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains($"--provisioner broken: no file at {script}-missing", missing.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Waits (bounded) until the daemon logged its <paramref name="count"/>th start of the binary; returns that process's id.</summary>
    private static async Task<int> WaitForStartedPidAsync(StringBuilder output, int count, Process daemon)
    {
        var deadline = DateTimeOffset.UtcNow + StepTimeout;
        while (true)
        {
            var starts = StartedLine().Matches(Output(output));
            if (starts.Count >= count)
            {
                return int.Parse(starts[count - 1].Groups["pid"].Value, CultureInfo.InvariantCulture);
            }

            Assert.False(daemon.HasExited, $"The daemon exited:\n{Output(output)}");
            Assert.True(DateTimeOffset.UtcNow < deadline, $"The daemon did not start the binary {count} time(s) within {StepTimeout}:\n{Output(output)}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static string Output(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Whether the process runs: it exists and is not a zombie (one whose parent died is reaped by whoever adopted it, maybe late).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");

            // "pid (comm) state ...": the state follows the last ')' (a command name may hold one).
            return stat[(stat.LastIndexOf(')') + 2)..] is var rest && !rest.StartsWith('Z') && !rest.StartsWith('X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
    }

    private static void SkipUnlessLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Runs provisioner binaries over Unix sockets and signals processes: Linux only.");
        }
    }

    [GeneratedRegex(@"Started the \S+ provisioner \S+ \(pid (?<pid>\d+)\) on (?<socket>\S+)")]
    private static partial Regex StartedLine();
}
