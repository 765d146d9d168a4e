using System.Text;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;
using static Provisioning.Sdk.Tests.Provisioners.SessionRequests;

namespace Provisioning.Sdk.Tests.Provisioners;

/// <summary>
/// The session protocol as the host enforces it, through both transports where the task asks for
/// it: in-process, and a real gRPC server on a Unix socket in the same test process.
/// </summary>
public sealed class ProvisionerSessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Transports => new(SessionTransport.InProcess, SessionTransport.UnixSocket);

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Session_ParsePlanApply_ForwardsLogsInOrderBeforeEachComplete(string transport)
    {
        var provisioner = new ScriptedProvisioner();
        await using var host = await SessionTransport.StartAsync(transport, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);

        await session.SendAsync(Config(), Ct);
        var parse = await SendAndCollectAsync(session, Parse());
        var plan = await SendAndCollectAsync(session, Plan());
        var apply = await SendAndCollectAsync(session, Apply());

        Assert.Equal(["log:parse 1", "log:parse 2", "log:parse 3", "Parse"], parse.Select(Describe));
        Assert.Equal(["log:plan 1", "log:plan 2", "log:plan 3", "Plan"], plan.Select(Describe));
        Assert.Equal(["log:apply 1", "log:apply 2", "log:apply 3", "Apply"], apply.Select(Describe));
        Assert.Equal("# Dev template\n", parse[^1].Parse.Readme.ToStringUtf8());
        Assert.Equal("region", parse[^1].Parse.TemplateVariables.Single().Name);
        Assert.Equal("terraform_data", plan[^1].Plan.Resources.Single().Type);
        Assert.Equal("state from plan for dev", apply[^1].Apply.State.ToStringUtf8());
        Assert.Equal(string.Empty, apply[^1].Apply.Error);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Session_CancelWhileLogsKeepArriving_StillSendsTheCancel(string transport)
    {
        // The provisioner logs faster than the caller takes lines, so a response is always waiting: the cancel must not
        // wait for a pause in the stream that never comes.
        var provisioner = new ScriptedProvisioner { Chatty = { "plan" } };
        await using var host = await SessionTransport.StartAsync(transport, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);
        using var cancel = new CancellationTokenSource();
        var seen = 0;

        var planning = session.SendAndWaitAsync(
            Plan(),
            async log =>
            {
                if (++seen == 100)
                {
                    await cancel.CancelAsync();
                }

                await Task.Delay(1, Ct);
            },
            cancel.Token);
        var complete = await planning.WaitAsync(Timeout, Ct);

        Assert.Equal(ProvisionerSessionHost.CanceledError, complete.Plan.Error);
        Assert.True(seen >= 100);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Session_CancelWhileRequestRuns_AnswersItsCompleteWithCanceledError(string transport)
    {
        var provisioner = new ScriptedProvisioner { Slow = { "plan" } };
        await using var host = await SessionTransport.StartAsync(transport, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);
        using var cancel = new CancellationTokenSource();
        var logs = new List<string>();

        var planning = session.SendAndWaitAsync(Plan(), log => { logs.Add(log.Output); return ValueTask.CompletedTask; }, cancel.Token);
        await provisioner.SlowStarted.Task.WaitAsync(Timeout, Ct);
        await cancel.CancelAsync();
        var complete = await planning.WaitAsync(Timeout, Ct);
        var parseAfterwards = await session.SendAndWaitAsync(Parse(), cancellationToken: Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(ProvisionerSessionHost.CanceledError, complete.Plan.Error);
        Assert.Equal(["plan 1", "plan 2"], logs);
        Assert.Equal(string.Empty, parseAfterwards.Parse.Error);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Session_UnsafeTemplateArchive_EndsWithClearErrorAndWritesNothing(string transport)
    {
        var provisioner = new ScriptedProvisioner();
        await using var host = await SessionTransport.StartAsync(transport, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);

        await session.SendAsync(Config(UnsafeArchive()), Ct);
        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => ReadAllAsync(session).WaitAsync(Timeout, Ct));

        Assert.Contains("template archive in Config was refused", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'../escaped.tf'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.WorkRoot));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(host.WorkRoot)!, "escaped.tf")));
        Assert.Empty(provisioner.Calls);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Session_FirstRequestIsNotConfig_EndsWithClearError(string transport)
    {
        var provisioner = new ScriptedProvisioner();
        await using var host = await SessionTransport.StartAsync(transport, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);

        await session.SendAsync(Parse(), Ct);
        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => ReadAllAsync(session).WaitAsync(Timeout, Ct));

        Assert.Contains("first request of a session must be Config", ex.Message, StringComparison.Ordinal);
        Assert.Empty(provisioner.Calls);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Sessions_RunConcurrently_EachSeesItsOwnTemplateAndWorkDirectoryIsRemoved(string transport)
    {
        var provisioner = new ScriptedProvisioner();
        await using var host = await SessionTransport.StartAsync(transport, provisioner, Ct);
        var first = await host.Connection.OpenSessionAsync(Ct);
        var second = await host.Connection.OpenSessionAsync(Ct);

        await first.SendAsync(Config(TemplateArchive("# First\n")), Ct);
        await second.SendAsync(Config(TemplateArchive("# Second\n")), Ct);
        var parses = await Task.WhenAll(
            first.SendAndWaitAsync(Parse(), cancellationToken: Ct),
            second.SendAndWaitAsync(Parse(), cancellationToken: Ct)).WaitAsync(Timeout, Ct);
        var workDirectoriesDuring = Directory.GetDirectories(host.WorkRoot).Length;
        await first.DisposeAsync();
        await second.DisposeAsync();

        Assert.Equal("# First\n", parses[0].Parse.Readme.ToStringUtf8());
        Assert.Equal("# Second\n", parses[1].Parse.Readme.ToStringUtf8());
        Assert.Equal(2, workDirectoriesDuring);

        // Over a socket the server ends its side of the session after the client's dispose returns.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Timeout);
        while (Directory.EnumerateFileSystemEntries(host.WorkRoot).Any())
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    [Fact]
    public async Task Session_ApplyWithoutPlan_AnswersApplyCompleteWithErrorWithoutCallingTheProvisioner()
    {
        var provisioner = new ScriptedProvisioner();
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);

        var apply = await session.SendAndWaitAsync(Apply(), cancellationToken: Ct).WaitAsync(Timeout, Ct);

        Assert.Contains("requires a successful Plan", apply.Apply.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("apply", provisioner.Calls);
    }

    [Fact]
    public async Task Session_ApplyAfterFailedPlan_AnswersApplyCompleteWithError()
    {
        var provisioner = new ScriptedProvisioner { FailPlan = true };
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);

        var plan = await session.SendAndWaitAsync(Plan(), cancellationToken: Ct).WaitAsync(Timeout, Ct);
        var apply = await session.SendAndWaitAsync(Apply(), cancellationToken: Ct).WaitAsync(Timeout, Ct);

        Assert.Equal("plan failed on purpose", plan.Plan.Error);
        Assert.Contains("requires a successful Plan", apply.Apply.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("apply", provisioner.Calls);
    }

    [Fact]
    public async Task Session_ProvisionerThrows_CompleteCarriesTheExceptionMessageAndSessionContinues()
    {
        var provisioner = new ScriptedProvisioner { Throwing = { "parse" } };
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);

        var parse = await session.SendAndWaitAsync(Parse(), cancellationToken: Ct).WaitAsync(Timeout, Ct);
        var plan = await session.SendAndWaitAsync(Plan(), cancellationToken: Ct).WaitAsync(Timeout, Ct);

        Assert.Equal("parse exploded", parse.Parse.Error);
        Assert.Equal(string.Empty, plan.Plan.Error);
    }

    [Fact]
    public async Task Session_CancelSentAsRawRequest_CancelsTheRunningRequest()
    {
        var provisioner = new ScriptedProvisioner { Slow = { "parse" } };
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);

        await session.SendAsync(Parse(), Ct);
        await provisioner.SlowStarted.Task.WaitAsync(Timeout, Ct);
        await session.SendAsync(Cancel(), Ct);
        var responses = await ReadUntilCompleteAsync(session).WaitAsync(Timeout, Ct);

        Assert.Equal(["log:parse 1", "log:parse 2", "Parse"], responses.Select(Describe));
        Assert.Equal(ProvisionerSessionHost.CanceledError, responses[^1].Parse.Error);
    }

    [Fact]
    public async Task Session_SecondRequestWhileOneRuns_EndsWithProtocolErrorAfterCancelingTheFirst()
    {
        var provisioner = new ScriptedProvisioner { Slow = { "plan" } };
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);

        await session.SendAsync(Plan(), Ct);
        await provisioner.SlowStarted.Task.WaitAsync(Timeout, Ct);
        await session.SendAsync(Parse(), Ct);
        var received = new List<Response>();
        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => ReadAllAsync(session, received).WaitAsync(Timeout, Ct));

        Assert.Contains("Parse arrived while Plan was still running", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ProvisionerSessionHost.CanceledError, received.Single(r => r.TypeCase == Response.TypeOneofCase.Plan).Plan.Error);
    }

    [Fact]
    public async Task Session_SecondConfig_EndsWithProtocolError()
    {
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, new ScriptedProvisioner(), Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);

        await session.SendAsync(Config(), Ct);
        await session.SendAsync(Config(), Ct);
        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => ReadAllAsync(session).WaitAsync(Timeout, Ct));

        Assert.Contains("second Config", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_Ended_RemovesItsWorkDirectory()
    {
        var provisioner = new ScriptedProvisioner();
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);
        await session.SendAndWaitAsync(Parse(), cancellationToken: Ct).WaitAsync(Timeout, Ct);
        var workDirectory = provisioner.LastWorkDirectory;
        var existedDuringSession = Directory.Exists(workDirectory) && File.Exists(Path.Combine(workDirectory, "main.tf"));

        await session.DisposeAsync();

        Assert.True(existedDuringSession);
        Assert.StartsWith(host.WorkRoot, workDirectory, StringComparison.Ordinal);
        Assert.False(Directory.Exists(workDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.WorkRoot));
    }

    [Fact]
    public async Task Session_DisposedWhileRequestRuns_CancelsItAndRemovesWorkDirectory()
    {
        var provisioner = new ScriptedProvisioner { Slow = { "plan" } };
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, provisioner, Ct);
        var session = await host.Connection.OpenSessionAsync(Ct);
        await session.SendAsync(Config(), Ct);
        await session.SendAsync(Plan(), Ct);
        await provisioner.SlowStarted.Task.WaitAsync(Timeout, Ct);

        await session.DisposeAsync().AsTask().WaitAsync(Timeout, Ct);

        Assert.Empty(Directory.EnumerateFileSystemEntries(host.WorkRoot));
    }

    [Fact]
    public async Task SendAndWaitAsync_ConfigRequest_IsRefused()
    {
        await using var host = await SessionTransport.StartAsync(SessionTransport.InProcess, new ScriptedProvisioner(), Ct);
        await using var session = await host.Connection.OpenSessionAsync(Ct);

        await Assert.ThrowsAsync<ArgumentException>(() => session.SendAndWaitAsync(Config(), cancellationToken: Ct));
    }

    private static string Describe(Response response) =>
        response.TypeCase == Response.TypeOneofCase.Log ? "log:" + response.Log.Output : response.TypeCase.ToString();

    private static async Task<List<Response>> SendAndCollectAsync(IProvisionerSessionClient session, Request request)
    {
        await session.SendAsync(request, Ct);
        return await ReadUntilCompleteAsync(session).WaitAsync(Timeout, Ct);
    }

    private static async Task<List<Response>> ReadUntilCompleteAsync(IProvisionerSessionClient session)
    {
        var responses = new List<Response>();
        await foreach (var response in session.ReadAllAsync(Ct))
        {
            responses.Add(response);
            if (response.TypeCase != Response.TypeOneofCase.Log)
            {
                return responses;
            }
        }

        throw new InvalidOperationException("The session ended before a Complete: " + string.Join(", ", responses.Select(Describe)));
    }

    private static async Task ReadAllAsync(IProvisionerSessionClient session, List<Response>? received = null)
    {
        await foreach (var response in session.ReadAllAsync(Ct))
        {
            received?.Add(response);
        }
    }
}
