using System.Globalization;
using System.Text.Json;

namespace Provisioning.Cli.Tests;

/// <summary>The `provisioning` CLI as a user meets it, against a real fleet of separate processes (see <see cref="CliFleetFixture"/>).</summary>
public sealed partial class CliEndToEndTests(CliFleetFixture fleet) : IClassFixture<CliFleetFixture>
{
    private static readonly TimeSpan ProcessExitTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Workspace_CreateStopStartDelete_ManagesTheDirectoryAndProcessOnDisk()
    {
        SkipUnlessLinux();
        var directory = Path.Combine(fleet.WorkspacesRoot, "admin", "lifecycle");
        var pidFile = Path.Combine(directory, ".provisioning", "workspace.pid");

        var created = await fleet.RunCheckedAsync("create", "lifecycle", "-t", "local", "-y");
        var firstPid = ReadPid(pidFile);
        var firstAlive = IsAlive(firstPid);

        var stopped = await fleet.RunCheckedAsync("stop", "lifecycle", "-y");
        var firstGone = await ExitsAsync(firstPid);
        var pidAfterStop = File.Exists(pidFile);
        var directoryAfterStop = Directory.Exists(directory);

        await fleet.RunCheckedAsync("start", "lifecycle", "-y");
        var secondPid = ReadPid(pidFile);
        var secondAlive = IsAlive(secondPid);

        var deleted = await fleet.RunCheckedAsync("delete", "lifecycle", "-y");
        var secondGone = await ExitsAsync(secondPid);
        var listed = await fleet.RunCheckedAsync("list", "-o", "json");

        Assert.Contains("==> Applying changes", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("Build #1 (start) of workspace 'lifecycle' succeeded", created.Stdout, StringComparison.Ordinal);
        Assert.True(firstAlive, $"The workspace process {firstPid} does not run after create.");
        Assert.Contains("Build #2 (stop)", stopped.Stdout, StringComparison.Ordinal);
        Assert.True(firstGone, $"The workspace process {firstPid} still runs after stop.");
        Assert.False(pidAfterStop, "The pid file is still there after stop.");
        Assert.True(directoryAfterStop, "Stop removed the workspace directory; only delete should.");
        Assert.True(secondAlive, $"The workspace process {secondPid} does not run after start.");
        Assert.Contains("The workspace is gone.", deleted.Stdout, StringComparison.Ordinal);
        Assert.True(secondGone, $"The workspace process {secondPid} still runs after delete.");
        Assert.False(Directory.Exists(directory), "Delete left the workspace directory.");
        Assert.DoesNotContain(JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray(), workspace => workspace.GetProperty("name").GetString() == "lifecycle");
    }

    [Fact]
    public async Task OutputJson_ListShowAndJobsList_PrintTheApiShapes()
    {
        SkipUnlessLinux();
        await fleet.RunCheckedAsync("create", "shapes", "-t", "local", "-y");

        var list = JsonDocument.Parse((await fleet.RunCheckedAsync("list", "-o", "json")).Stdout).RootElement;
        var show = JsonDocument.Parse((await fleet.RunCheckedAsync("show", "shapes", "-o", "json")).Stdout).RootElement;
        var jobs = JsonDocument.Parse((await fleet.RunCheckedAsync("jobs", "list", "-o", "json")).Stdout).RootElement;
        var templates = JsonDocument.Parse((await fleet.RunCheckedAsync("templates", "list", "-o", "json")).Stdout).RootElement;
        var versions = JsonDocument.Parse((await fleet.RunCheckedAsync("templates", "versions", "list", "local", "-o", "json")).Stdout).RootElement;
        var logs = await fleet.RunCheckedAsync("logs", "shapes", "--build", "1");
        await fleet.RunCheckedAsync("delete", "shapes", "-y");

        var listed = Assert.Single(list.EnumerateArray(), workspace => workspace.GetProperty("name").GetString() == "shapes");
        Assert.Equal("local", listed.GetProperty("template_name").GetString());
        Assert.Equal("succeeded", listed.GetProperty("latest_build").GetProperty("job").GetProperty("status").GetString());
        Assert.Equal(1, show.GetProperty("latest_build").GetProperty("build_number").GetInt32());
        var resources = show.GetProperty("resources").EnumerateArray().ToList();
        Assert.Contains(resources, resource => resource.GetProperty("type").GetString() == "terraform_data" && resource.GetProperty("name").GetString() == "home");
        Assert.All(resources, resource =>
        {
            Assert.Equal(JsonValueKind.Array, resource.GetProperty("agents").ValueKind);
            Assert.Equal(JsonValueKind.Array, resource.GetProperty("metadata").ValueKind);
        });
        var build = Assert.Single(jobs.EnumerateArray(), job => job.GetProperty("id").GetString() == show.GetProperty("latest_build").GetProperty("job").GetProperty("id").GetString());
        Assert.Equal("workspace_build", build.GetProperty("type").GetString());
        Assert.True(build.TryGetProperty("queue_position", out _));
        Assert.True(build.TryGetProperty("waiting_reason", out _));
        var local = Assert.Single(templates.EnumerateArray(), template => template.GetProperty("name").GetString() == "local");
        Assert.Equal("v1", local.GetProperty("active_version_name").GetString());
        var version = Assert.Single(versions.EnumerateArray());
        Assert.Equal("succeeded", version.GetProperty("job").GetProperty("status").GetString());
        Assert.True(version.GetProperty("active").GetBoolean());
        Assert.Contains("Applying changes", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains("Apply complete!", logs.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TemplatesPush_SyntaxError_ShowsTheFileAndLineAndFails()
    {
        SkipUnlessLinux();
        var directory = Directory.CreateTempSubdirectory("provisioning-bad-template-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "main.tf"), "resource \"terraform_data\" \"broken\" {\n  input = \"fine\"\n\n  triggers_replace = [\n}\n", TestContext.Current.CancellationToken);

            var result = await fleet.RunAsync("templates", "push", "broken", "-d", directory, "-y");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Matches(@"main\.tf[: ,]+(line )?[45]", result.Stderr);
            Assert.Contains("error: The import of template 'broken'", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Create_UnknownTemplate_FailsNamingTheTemplate()
    {
        SkipUnlessLinux();

        var result = await fleet.RunAsync("create", "orphan", "-t", "no-such-template", "-y");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no-such-template", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Create_SameNameTwice_FailsSayingTheNameIsTaken()
    {
        SkipUnlessLinux();
        await fleet.RunCheckedAsync("create", "twice", "-t", "local", "-y");

        var second = await fleet.RunAsync("create", "twice", "-t", "local", "-y");
        await fleet.RunCheckedAsync("delete", "twice", "-y");

        Assert.Equal(1, second.ExitCode);
        Assert.Contains("twice", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("already have a workspace", second.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsList_TagNoDaemonHas_ExplainsTheWaitAndCancelEndsThePush()
    {
        SkipUnlessLinux();
        using var push = fleet.StartDetached(
            "templates", "push", "on-mars", "-d", Path.Combine(Provisioning.Testing.SharedFolder.RepositoryRoot, "templates", "local"), "--provisioner-tag", "region=mars", "-y");
        var pushed = CliFleetFixture.CollectAsync(push, CliFleetFixture.CommandTimeout);

        JsonElement waiting = default;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (waiting.ValueKind == JsonValueKind.Undefined)
            {
                Assert.False(push.HasExited, "The push ended before its import job was queued.");
                var pending = JsonDocument.Parse((await fleet.RunCheckedAsync("jobs", "list", "--status", "pending", "-o", "json")).Stdout).RootElement;
                waiting = pending.EnumerateArray().FirstOrDefault(job => job.GetProperty("tags").TryGetProperty("region", out var region) && region.GetString() == "mars");
                if (waiting.ValueKind == JsonValueKind.Undefined)
                {
                    await Task.Delay(250, timeout.Token);
                }
            }
        }

        var text = await fleet.RunCheckedAsync("jobs", "list", "--status", "pending");
        var id = waiting.GetProperty("id").GetString()!;
        var cancel = await fleet.RunCheckedAsync("jobs", "cancel", id);
        var result = await pushed;

        Assert.Contains("no provisioner matches tags", waiting.GetProperty("waiting_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, waiting.GetProperty("queue_position").GetInt32());
        Assert.Contains(id, text.Stdout, StringComparison.Ordinal);
        Assert.Contains("no provisioner matches tags", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("canceled", cancel.Stdout, StringComparison.Ordinal);
        Assert.Contains("warning: no connected provisioner daemon offers tags region=mars", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Queued: position 1 of 1", result.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("canceled", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProvisionerStart_TagWithKey_IsRefusedBeforeConnecting()
    {
        SkipUnlessLinux();

        var result = await fleet.RunAsync("provisioner", "start", "--url", fleet.Url, "--key", "id.secret", "--tag", "region=eu");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--tag cannot be used with --key", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatePull_AfterCreate_PrintsTheTerraformState()
    {
        SkipUnlessLinux();
        await fleet.RunCheckedAsync("create", "stateful", "-t", "local", "-y");

        var state = await fleet.RunCheckedAsync("state", "pull", "stateful");
        var file = Path.Combine(fleet.Home, "stateful.tfstate.json");
        await File.WriteAllTextAsync(file, state.Stdout, TestContext.Current.CancellationToken);
        var pushed = await fleet.RunCheckedAsync("state", "push", "stateful", file);
        var pulledAgain = await fleet.RunCheckedAsync("state", "pull", "stateful", "--build", "2");
        await fleet.RunCheckedAsync("delete", "stateful", "-y");

        var resources = JsonDocument.Parse(state.Stdout).RootElement.GetProperty("resources").EnumerateArray();
        Assert.Contains(resources, resource => resource.GetProperty("type").GetString() == "terraform_data");
        Assert.Contains("Recorded the state as build #2 of 'stateful'", pushed.Stdout, StringComparison.Ordinal);
        Assert.Equal(state.Stdout, pulledAgain.Stdout);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Login_TokenFromTheServersSessionFile_StoresUrlAndTokenOwnerOnly()
    {
        SkipUnlessLinux();
        var home = Directory.CreateTempSubdirectory("provisioning-login-").FullName;
        try
        {
            var token = (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), TestContext.Current.CancellationToken)).Trim();
            var environment = new Dictionary<string, string> { ["PROVISIONING_HOME"] = home };

            var notLoggedIn = await fleet.RunAsync(["list"], environment);
            var refused = await fleet.RunAsync(["login", fleet.Url, "--token", "abcdefghij-0123456789abcdef0123456789abcdef"], environment);
            var storedAfterRefusal = File.Exists(Path.Combine(home, "session"));
            var login = await fleet.RunAsync(["login", fleet.Url, "--token", token], environment);
            var list = await fleet.RunAsync(["list", "-o", "json"], environment);
            var overridden = await fleet.RunAsync(["list"], new Dictionary<string, string> { ["PROVISIONING_HOME"] = home, ["PROVISIONING_SESSION_TOKEN"] = "abcdefghij-0123456789abcdef0123456789abcdef" });

            Assert.Equal(1, notLoggedIn.ExitCode);
            Assert.Contains("provisioning login", notLoggedIn.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("Unauthorized", refused.Stderr, StringComparison.Ordinal);
            Assert.False(storedAfterRefusal, "A refused login stored its token.");
            Assert.Equal(0, login.ExitCode);
            Assert.Contains("as admin", login.Stdout, StringComparison.Ordinal);
            Assert.Equal(token, (await File.ReadAllTextAsync(Path.Combine(home, "session"), TestContext.Current.CancellationToken)).Trim());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home, "session")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home, "url")));
            Assert.Equal(0, list.ExitCode);
            Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(list.Stdout).RootElement.ValueKind);
            Assert.Equal(1, overridden.ExitCode);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task TemplatesPush_InterruptedWithoutATerminal_CancelsTheImportJob()
    {
        SkipUnlessLinux();
        using var push = fleet.StartDetached(
            "templates", "push", "interrupted", "-d", Path.Combine(Provisioning.Testing.SharedFolder.RepositoryRoot, "templates", "local"), "--provisioner-tag", "region=venus", "-y");
        var stdout = new System.Text.StringBuilder();
        var firstLines = new TaskCompletionSource();
        push.OutputDataReceived += (_, line) =>
        {
            lock (stdout)
            {
                stdout.AppendLine(line.Data);
                if (line.Data?.StartsWith("==> Queued", StringComparison.Ordinal) == true)
                {
                    firstLines.TrySetResult();
                }
            }
        };
        var stderr = push.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        push.BeginOutputReadLine();
        await firstLines.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        using (var interrupt = System.Diagnostics.Process.Start("kill", ["-INT", push.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await interrupt.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await push.WaitForExitAsync(timeout.Token);
        var jobs = JsonDocument.Parse((await fleet.RunCheckedAsync("jobs", "list", "-o", "json")).Stdout).RootElement;

        var job = Assert.Single(jobs.EnumerateArray(), job => job.GetProperty("tags").TryGetProperty("region", out var region) && region.GetString() == "venus");
        Assert.Equal("canceled", job.GetProperty("status").GetString());
        Assert.Equal(1, push.ExitCode);
        Assert.Contains("Canceling the job", await stderr, StringComparison.Ordinal);
    }

    private static void SkipUnlessLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Reads workspace processes from /proc and signals processes: Linux only.");
        }
    }

    private static int ReadPid(string pidFile)
    {
        Assert.True(File.Exists(pidFile), $"No pid file at {pidFile}.");
        return int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Running and not a zombie (a container's init may not reap the detached workspace process at once).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private static async Task<bool> ExitsAsync(int pid)
    {
        var deadline = DateTime.UtcNow + ProcessExitTimeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }
}
