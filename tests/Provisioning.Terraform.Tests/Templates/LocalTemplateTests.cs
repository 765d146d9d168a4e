using System.Globalization;
using System.Text.Json;

using Google.Protobuf;

using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Sdk.Archives;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Templates;

/// <summary>
/// templates/local as the daemon runs it: the packed template through an in-process session, real
/// Terraform, and a real workspace process on this machine. Always without a sandbox, whatever
/// PROVISIONING_TEST_SANDBOX says: the template manages the daemon's own machine (a directory under its home, a
/// process that outlives Terraform), which a sandbox hides on purpose (docs/decisions/0005-built-in-daemon-isolation.md).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class LocalTemplateTests(TerraformFixture fixture) : IDisposable
{
    private static readonly string TemplateDirectory = Path.Combine(SharedFolder.RepositoryRoot, "templates", "local");

    // A space in the root proves the scripts quote every path.
    private readonly string _root = Path.Combine(Directory.CreateTempSubdirectory("provisioning-local-template-").FullName, "work spaces");
    private readonly string _name = $"box {Guid.NewGuid():N}"[..12];
    private readonly HashSet<int> _startedPids = [];

    private string WorkspaceDirectory => Path.Combine(_root, "alice", _name);

    private string PidFile => Path.Combine(WorkspaceDirectory, ".provisioning", "workspace.pid");

    private TerraformProvisioner CreateUnsandboxedProvisioner()
    {
        var options = fixture.CreateOptions();
        options.Sandbox = Provisioning.Terraform.Sandbox.TerraformSandboxMode.None;
        return fixture.CreateProvisioner(options);
    }

    [Fact(Timeout = 240_000)]
    public async Task LocalTemplate_StartStopStartDelete_ManagesDirectoryAndProcess()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The test reads /proc to identify the workspace process.");
        var cancellationToken = TestContext.Current.CancellationToken;
        var connection = new InProcessProvisionerConnection(CreateUnsandboxedProvisioner(), logger: NullLogger<ProvisionerSessionHost>.Instance);
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(TemplateDirectory, cancellationToken);

        // Parse
        var parse = await ParseAsync(connection, archive, cancellationToken);
        Assert.Equal("", parse.Error);
        Assert.Equal(
            ["workspace_name", "workspace_owner", "workspace_id", "workspace_transition", "workspace_build_number", "workspaces_root", "heartbeat_interval_seconds"],
            parse.TemplateVariables.Select(v => v.Name));
        Assert.All(parse.TemplateVariables, v => Assert.False(v.Required, $"{v.Name} needs a default so a build never asks for it."));
        Assert.Contains("templates/local", parse.Readme.ToStringUtf8(), StringComparison.Ordinal);

        // Start: the directory exists and the recorded pid is a live workspace process.
        var start = await BuildAsync(connection, archive, ByteString.Empty, WorkspaceTransition.Start, 1, cancellationToken);
        Assert.Contains(start.Resources, r => r.Type == "terraform_data" && r.Name == "home");
        Assert.Contains(start.Resources, r => r.Type == "terraform_data" && r.Name == "process");
        Assert.True(Directory.Exists(WorkspaceDirectory), $"{WorkspaceDirectory} was not created.");
        var firstPid = RecordedPid(start.State);
        Assert.Equal(firstPid, PidInFile());
        Assert.True(IsWorkspaceProcess(firstPid), $"pid {firstPid} is not a live workspace process.");
        Assert.Equal(WorkspaceDirectory, ProcessWorkingDirectory(firstPid));
        await WaitForAsync(() => File.Exists(Path.Combine(WorkspaceDirectory, ".provisioning", "heartbeat")), "the heartbeat file", cancellationToken);

        // Start again while running: the same process is kept, no second one is started.
        var again = await BuildAsync(connection, archive, start.State, WorkspaceTransition.Start, 2, cancellationToken);
        Assert.Equal(firstPid, RecordedPid(again.State));
        Assert.True(IsWorkspaceProcess(firstPid));
        Assert.Single(WorkspaceProcesses());

        // Stop: the process is gone, the directory (and a user's file in it) is kept.
        File.WriteAllText(Path.Combine(WorkspaceDirectory, "notes.txt"), "kept across stop");
        var stop = await BuildAsync(connection, archive, again.State, WorkspaceTransition.Stop, 3, cancellationToken);
        Assert.DoesNotContain(stop.Resources, r => r.Name == "process");
        Assert.Contains(stop.Resources, r => r.Name == "home");
        Assert.False(IsWorkspaceProcess(firstPid), $"pid {firstPid} still runs after stop.");
        Assert.Empty(WorkspaceProcesses());
        Assert.Equal("kept across stop", File.ReadAllText(Path.Combine(WorkspaceDirectory, "notes.txt")));

        // Start after stop: a new live process.
        var restart = await BuildAsync(connection, archive, stop.State, WorkspaceTransition.Start, 4, cancellationToken);
        var secondPid = RecordedPid(restart.State);
        Assert.NotEqual(firstPid, secondPid);
        Assert.True(IsWorkspaceProcess(secondPid), $"pid {secondPid} is not a live workspace process.");

        // Delete without a stop first: the process is stopped and the directory removed.
        var delete = await BuildAsync(connection, archive, restart.State, WorkspaceTransition.Destroy, 5, cancellationToken);
        Assert.Empty(delete.Resources);
        Assert.False(IsWorkspaceProcess(secondPid), $"pid {secondPid} still runs after delete.");
        Assert.False(Directory.Exists(WorkspaceDirectory), $"{WorkspaceDirectory} still exists after delete.");
        Assert.False(Directory.Exists(Path.Combine(_root, "alice")), "The owner's folder was left although its last workspace was deleted.");
    }

    [Fact(Timeout = 180_000)]
    public async Task LocalTemplate_ProcessDiedWhileStarted_StopSucceedsAndNextStartRevivesIt()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The test reads /proc to identify the workspace process.");
        var cancellationToken = TestContext.Current.CancellationToken;
        var connection = new InProcessProvisionerConnection(CreateUnsandboxedProvisioner(), logger: NullLogger<ProvisionerSessionHost>.Instance);
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(TemplateDirectory, cancellationToken);
        var start = await BuildAsync(connection, archive, ByteString.Empty, WorkspaceTransition.Start, 1, cancellationToken);
        var firstPid = RecordedPid(start.State);

        // The process dies behind Terraform's back; a start build brings it back.
        KillWorkspaceProcess(firstPid);
        await WaitForAsync(() => !IsWorkspaceProcess(firstPid), $"pid {firstPid} to end", cancellationToken);
        var revived = await BuildAsync(connection, archive, start.State, WorkspaceTransition.Start, 2, cancellationToken);
        var secondPid = RecordedPid(revived.State);
        Assert.NotEqual(firstPid, secondPid);
        Assert.True(IsWorkspaceProcess(secondPid), $"pid {secondPid} is not a live workspace process.");

        // It dies again; stopping a workspace whose process is already gone still succeeds.
        KillWorkspaceProcess(secondPid);
        await WaitForAsync(() => !IsWorkspaceProcess(secondPid), $"pid {secondPid} to end", cancellationToken);
        var stop = await BuildAsync(connection, archive, revived.State, WorkspaceTransition.Stop, 3, cancellationToken);
        Assert.DoesNotContain(stop.Resources, r => r.Name == "process");
        Assert.True(Directory.Exists(WorkspaceDirectory));

        var delete = await BuildAsync(connection, archive, stop.State, WorkspaceTransition.Destroy, 4, cancellationToken);
        Assert.Empty(delete.Resources);
        Assert.False(Directory.Exists(WorkspaceDirectory));
    }

    [Fact(Timeout = 180_000)]
    public async Task LocalTemplate_StopWithoutTheProcessInState_StillStopsIt()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The test reads /proc to identify the workspace process.");
        var cancellationToken = TestContext.Current.CancellationToken;
        var connection = new InProcessProvisionerConnection(CreateUnsandboxedProvisioner(), logger: NullLogger<ProvisionerSessionHost>.Instance);
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(TemplateDirectory, cancellationToken);
        var start = await BuildAsync(connection, archive, ByteString.Empty, WorkspaceTransition.Start, 1, cancellationToken);
        var pid = RecordedPid(start.State);

        // As after a build canceled before Terraform recorded the process: the state knows nothing of it.
        var stop = await BuildAsync(connection, archive, ByteString.Empty, WorkspaceTransition.Stop, 2, cancellationToken);

        Assert.False(IsWorkspaceProcess(pid), $"pid {pid} still runs after stop.");
        Assert.Contains(stop.Resources, r => r.Name == "stopper");
        Assert.True(Directory.Exists(WorkspaceDirectory));
        await BuildAsync(connection, archive, stop.State, WorkspaceTransition.Destroy, 3, cancellationToken);
        Assert.False(Directory.Exists(WorkspaceDirectory));
    }

    [Fact(Timeout = 180_000)]
    public async Task LocalTemplate_HeartbeatIntervalChanged_RestartsTheProcess()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The test reads /proc to identify the workspace process.");
        var cancellationToken = TestContext.Current.CancellationToken;
        var connection = new InProcessProvisionerConnection(CreateUnsandboxedProvisioner(), logger: NullLogger<ProvisionerSessionHost>.Instance);
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(TemplateDirectory, cancellationToken);
        var start = await BuildAsync(connection, archive, ByteString.Empty, WorkspaceTransition.Start, 1, cancellationToken);
        var firstPid = RecordedPid(start.State);

        var changed = await BuildAsync(connection, archive, start.State, WorkspaceTransition.Start, 2, cancellationToken, heartbeatSeconds: 2);

        var secondPid = RecordedPid(changed.State);
        Assert.NotEqual(firstPid, secondPid);
        Assert.False(IsWorkspaceProcess(firstPid), $"The old process {firstPid} still runs.");
        Assert.Equal(["provisioning-workspace", WorkspaceDirectory, "2"], CommandLine(secondPid)![^3..]);
        await BuildAsync(connection, archive, changed.State, WorkspaceTransition.Destroy, 3, cancellationToken);
        Assert.False(IsWorkspaceProcess(secondPid));
    }

    public void Dispose()
    {
        // Whatever a failed assertion left running must not outlive the test.
        foreach (var pid in _startedPids.Concat(WorkspaceProcesses()))
        {
            KillWorkspaceProcess(pid);
        }

        try
        {
            Directory.Delete(Path.GetDirectoryName(_root)!, recursive: true);
        }
        catch (IOException)
        {
            // A process killed a moment ago may still write its heartbeat; the temp folder is cleaned by the OS.
        }
    }

    private static async Task<ParseComplete> ParseAsync(InProcessProvisionerConnection connection, byte[] archive, CancellationToken cancellationToken)
    {
        await using var session = await connection.OpenSessionAsync(cancellationToken);
        await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive) } }, cancellationToken);
        return (await session.SendAndWaitAsync(new Request { Parse = new ParseRequest() }, cancellationToken: cancellationToken)).Parse;
    }

    private async Task<ApplyComplete> BuildAsync(
        InProcessProvisionerConnection connection, byte[] archive, ByteString state, WorkspaceTransition transition, int buildNumber, CancellationToken cancellationToken, int heartbeatSeconds = 1)
    {
        var logs = new List<string>();
        ValueTask OnLog(Log log)
        {
            logs.Add(log.Output);
            return ValueTask.CompletedTask;
        }

        await using var session = await connection.OpenSessionAsync(cancellationToken);
        await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive), State = state } }, cancellationToken);
        var plan = new PlanRequest
        {
            Metadata = new Metadata
            {
                WorkspaceName = _name,
                WorkspaceOwner = "alice",
                WorkspaceId = "9d2c4d1e-local-template-test",
                WorkspaceTransition = transition,
                WorkspaceBuildNumber = buildNumber,
            },
        };
        plan.VariableValues.Add(new VariableValue { Name = "workspaces_root", Value = _root });
        plan.VariableValues.Add(new VariableValue { Name = "heartbeat_interval_seconds", Value = heartbeatSeconds.ToString(CultureInfo.InvariantCulture) });
        try
        {
            var planned = (await session.SendAndWaitAsync(new Request { Plan = plan }, OnLog, cancellationToken)).Plan;
            Assert.True(planned.Error == "", $"{transition} plan: {planned.Error}\n{string.Join('\n', logs)}");
            var applied = (await session.SendAndWaitAsync(new Request { Apply = new ApplyRequest() }, OnLog, cancellationToken)).Apply;
            Assert.True(applied.Error == "", $"{transition} apply: {applied.Error}\n{string.Join('\n', logs)}");
            return applied;
        }
        finally
        {
            if (ReadPidFile() is { } pid)
            {
                _startedPids.Add(pid);
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"--- {transition} (build {buildNumber})\n{string.Join('\n', logs.Where(line => line.Contains("(local-exec):", StringComparison.Ordinal)))}");
        }
    }

    /// <summary>The pid that Terraform recorded in terraform_data.process.</summary>
    private static int RecordedPid(ByteString state)
    {
        using var json = JsonDocument.Parse(state.ToStringUtf8());
        var process = json.RootElement.GetProperty("resources").EnumerateArray()
            .Single(r => r.GetProperty("type").GetString() == "terraform_data" && r.GetProperty("name").GetString() == "process");
        var output = process.GetProperty("instances")[0].GetProperty("attributes").GetProperty("output").GetProperty("value");
        return int.Parse(output.GetProperty("pid").GetString()!, CultureInfo.InvariantCulture);
    }

    private int PidInFile() => ReadPidFile() ?? throw new InvalidOperationException($"{PidFile} is missing or empty.");

    private int? ReadPidFile()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>A live (not zombie) process running this test's workspace loop.</summary>
    private bool IsWorkspaceProcess(int pid) => CommandLine(pid) is { } arguments
        && arguments.Contains("provisioning-workspace")
        && arguments.Contains(WorkspaceDirectory);

    private List<int> WorkspaceProcesses() => Directory.EnumerateDirectories("/proc")
        .Select(path => int.TryParse(Path.GetFileName(path), CultureInfo.InvariantCulture, out var pid) ? pid : 0)
        .Where(pid => pid > 0 && IsWorkspaceProcess(pid))
        .ToList();

    private static string[]? CommandLine(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/cmdline");
            return text.Length == 0 ? null : text.TrimEnd('\0').Split('\0');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ProcessWorkingDirectory(int pid) => new FileInfo($"/proc/{pid}/cwd").LinkTarget;

    private void KillWorkspaceProcess(int pid)
    {
        if (!IsWorkspaceProcess(pid))
        {
            return;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It ended between the check and the kill.
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after 10 s waiting for {what}.");
            await Task.Delay(100, cancellationToken);
        }
    }
}
