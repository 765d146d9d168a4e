using System.Text.Json;

using Google.Protobuf;

using Provisioning.Sdk.Archives;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;
using Provisioning.Testing;

namespace Provisioning.Examples.Tests;

/// <summary>The echo provisioner as a daemon uses an out-of-process provisioner: a separate process, a Unix socket, real gRPC.</summary>
public sealed class EchoProvisionerProcessTests
{
    private static readonly string SampleDirectory = Path.Combine(SharedFolder.RepositoryRoot, "examples", "echo-provisioner", "sample");

    [Fact(Timeout = 120_000)]
    public async Task EchoProvisioner_ConfigParsePlanApplyOverItsSocket_EchoesTheTemplatesResources()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var echo = await EchoProvisionerProcess.StartAsync();
        using var connection = new UnixSocketProvisionerConnection(echo.SocketPath);
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(SampleDirectory, cancellationToken);

        // Start: Config → Parse → Plan → Apply in one session.
        ByteString state;
        await using (var session = await connection.OpenSessionAsync(cancellationToken))
        {
            await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive) } }, cancellationToken);

            var parse = (await session.SendAndWaitAsync(new Request { Parse = new ParseRequest() }, cancellationToken: cancellationToken)).Parse;
            Assert.Equal("", parse.Error);
            Assert.Equal(["greeting", "size", "api_token"], parse.TemplateVariables.Select(v => v.Name));
            Assert.Equal([false, true, false], parse.TemplateVariables.Select(v => v.Required));
            Assert.Equal("hello", parse.TemplateVariables[0].DefaultValue);
            Assert.True(parse.TemplateVariables[2].Sensitive);
            Assert.StartsWith("# Echo sample", parse.Readme.ToStringUtf8(), StringComparison.Ordinal);

            var logs = new List<Log>();
            var plan = (await session.SendAndWaitAsync(new Request { Plan = StartPlan() }, log => Collect(logs, log), cancellationToken)).Plan;
            Assert.Equal("", plan.Error);
            Assert.Equal([("echo_volume", "home"), ("echo_machine", "box")], plan.Resources.Select(r => (r.Type, r.Name)));
            var box = plan.Resources.Single(r => r.Name == "box");
            Assert.Equal([("size", "large", false), ("greeting", "hello", false), ("token", "s3cr3t-token", true)], box.Metadata.Select(m => (m.Key, m.Value, m.Sensitive)));
            Assert.Contains(logs, log => log.Level == LogLevel.Info && log.Output == "hello from alice/dev (start, build 1)");
            Assert.Contains(logs, log => log.Level == LogLevel.Debug && log.Output == "token is (sensitive value)");
            Assert.Contains(logs, log => log.Level == LogLevel.Warn && log.Output == "size large is pretend");
            Assert.DoesNotContain(logs, log => log.Output.Contains("s3cr3t-token", StringComparison.Ordinal));

            logs.Clear();
            var apply = (await session.SendAndWaitAsync(new Request { Apply = new ApplyRequest() }, log => Collect(logs, log), cancellationToken)).Apply;
            Assert.Equal("", apply.Error);
            Assert.Equal(["home", "box"], apply.Resources.Select(r => r.Name));
            Assert.True(apply.Resources.Single(r => r.Name == "box").Metadata.Single(m => m.Key == "token").Sensitive);
            Assert.Contains(logs, log => log.Output == "echo_machine.box: echoed");
            state = apply.State;
            using var json = JsonDocument.Parse(state.ToStringUtf8());
            Assert.Equal("start", json.RootElement.GetProperty("transition").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("resources").GetArrayLength());
        }

        // Stop, from the start build's state, in a new session: the machine goes, the volume stays.
        await using (var session = await connection.OpenSessionAsync(cancellationToken))
        {
            await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive), State = state } }, cancellationToken);
            var plan = StartPlan();
            plan.Metadata.WorkspaceTransition = WorkspaceTransition.Stop;
            plan.Metadata.WorkspaceBuildNumber = 2;
            Assert.Equal("", (await session.SendAndWaitAsync(new Request { Plan = plan }, cancellationToken: cancellationToken)).Plan.Error);

            var logs = new List<Log>();
            var apply = (await session.SendAndWaitAsync(new Request { Apply = new ApplyRequest() }, log => Collect(logs, log), cancellationToken)).Apply;
            Assert.Equal("", apply.Error);
            Assert.Equal(["home"], apply.Resources.Select(r => r.Name));
            Assert.Contains(logs, log => log.Output == "Previous state: 2 resource(s) from build 1 (start).");
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task EchoProvisioner_PlanWithoutRequiredVariableThenDestroy_ErrorThenNoResources()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var echo = await EchoProvisionerProcess.StartAsync();
        using var connection = new UnixSocketProvisionerConnection(echo.SocketPath);
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(SampleDirectory, cancellationToken);
        await using var session = await connection.OpenSessionAsync(cancellationToken);
        await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive) } }, cancellationToken);

        var missing = (await session.SendAndWaitAsync(
            new Request { Plan = new PlanRequest { Metadata = new Metadata { WorkspaceName = "dev", WorkspaceTransition = WorkspaceTransition.Start } } },
            cancellationToken: cancellationToken)).Plan;
        var destroy = StartPlan();
        destroy.Metadata.WorkspaceTransition = WorkspaceTransition.Destroy;
        var destroyed = (await session.SendAndWaitAsync(new Request { Plan = destroy }, cancellationToken: cancellationToken)).Plan;

        Assert.Equal("Variable \"size\" is required: it has no default in echo.json; give it a value.", missing.Error);
        Assert.Empty(missing.Resources);
        Assert.Equal("", destroyed.Error);
        Assert.Empty(destroyed.Resources);
    }

    [Fact(Timeout = 120_000)]
    public async Task EchoProvisioner_Sigterm_ExitsCleanlyAndRemovesItsSocket()
    {
        await using var echo = await EchoProvisionerProcess.StartAsync();
        Assert.True(File.Exists(echo.SocketPath));

        var exitCode = await echo.TerminateAsync(TimeSpan.FromSeconds(20));

        Assert.True(exitCode == 0, $"exit code {exitCode}; output:\n{echo.Output}");
        Assert.False(File.Exists(echo.SocketPath), "The socket file was left behind.");
        Assert.Contains("Echo provisioner stopped", echo.Output, StringComparison.Ordinal);
    }

    private static PlanRequest StartPlan()
    {
        var plan = new PlanRequest
        {
            Metadata = new Metadata { WorkspaceName = "dev", WorkspaceOwner = "alice", WorkspaceTransition = WorkspaceTransition.Start, WorkspaceBuildNumber = 1 },
        };
        plan.VariableValues.Add(new VariableValue { Name = "size", Value = "large" });
        plan.VariableValues.Add(new VariableValue { Name = "api_token", Value = "s3cr3t-token", Sensitive = true });
        return plan;
    }

    private static ValueTask Collect(List<Log> logs, Log log)
    {
        logs.Add(log);
        return ValueTask.CompletedTask;
    }
}
