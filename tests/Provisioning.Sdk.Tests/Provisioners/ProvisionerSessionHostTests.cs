using System.Runtime.CompilerServices;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;
using static Provisioning.Sdk.Tests.Provisioners.SessionRequests;

namespace Provisioning.Sdk.Tests.Provisioners;

/// <summary>How the host ends a session when its transport ends or breaks.</summary>
public sealed class ProvisionerSessionHostTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_RequestStreamEndsWhileRequestRuns_WaitsForItsComplete()
    {
        using var work = new TempDirectory();
        var provisioner = new ScriptedProvisioner { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var host = new ProvisionerSessionHost(provisioner, new ProvisionerSessionHostOptions { WorkDirectoryRoot = work.Path });
        var responses = new List<Response>();

        var run = host.RunAsync(Requests(Config(), Plan()), Collect(responses), Ct);
        await provisioner.SlowStarted.Task.WaitAsync(Timeout, Ct);
        var finishedBeforeRelease = run.IsCompleted;
        provisioner.Gate.SetResult();
        await run.WaitAsync(Timeout, Ct);

        Assert.False(finishedBeforeRelease);
        Assert.Equal(string.Empty, responses[^1].Plan.Error);
        Assert.Equal("plan 3", responses[^2].Log.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Path));
    }

    [Fact]
    public async Task RunAsync_RequestStreamBreaksWhileRequestRuns_CancelsItAndRethrows()
    {
        using var work = new TempDirectory();
        var provisioner = new ScriptedProvisioner { Slow = { "apply" } };
        var host = new ProvisionerSessionHost(provisioner, new ProvisionerSessionHostOptions { WorkDirectoryRoot = work.Path });
        var responses = new List<Response>();
        var planCompleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collect = Collect(responses, r => { if (r.TypeCase == Response.TypeOneofCase.Plan) { planCompleted.TrySetResult(); } });

        var ex = await Assert.ThrowsAsync<IOException>(() => host.RunAsync(BrokenDuringApply(planCompleted.Task, provisioner.SlowStarted.Task, Ct), collect, Ct).WaitAsync(Timeout, Ct));

        Assert.Equal("connection reset", ex.Message);
        Assert.Equal(ProvisionerSessionHost.CanceledError, responses[^1].Apply.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Path));
    }

    [Fact]
    public async Task RunAsync_ResponsesCannotBeSent_EndsWithClearErrorAndCancelsTheRequest()
    {
        using var work = new TempDirectory();
        var provisioner = new ScriptedProvisioner { Slow = { "parse" } };
        var host = new ProvisionerSessionHost(provisioner, new ProvisionerSessionHostOptions { WorkDirectoryRoot = work.Path });

        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => host.RunAsync(
            Requests(Config(), Parse()),
            (_, _) => ValueTask.FromException(new IOException("daemon went away")),
            Ct).WaitAsync(Timeout, Ct));

        Assert.Contains("could not be sent: daemon went away", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Path));
    }

    [Fact]
    public async Task RunAsync_WorkDirectoryRootIsAFile_EndsWithErrorNamingTheSetting()
    {
        using var work = new TempDirectory();
        var notADirectory = work.WriteFile("file", "x");
        var host = new ProvisionerSessionHost(new ScriptedProvisioner(), new ProvisionerSessionHostOptions { WorkDirectoryRoot = notADirectory });

        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => host.RunAsync(Requests(Config(), Parse()), Collect([]), Ct).WaitAsync(Timeout, Ct));

        Assert.Contains("WorkDirectoryRoot", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RequestWithoutType_EndsWithProtocolError()
    {
        using var work = new TempDirectory();
        var host = new ProvisionerSessionHost(new ScriptedProvisioner(), new ProvisionerSessionHostOptions { WorkDirectoryRoot = work.Path });

        var ex = await Assert.ThrowsAsync<ProvisionerSessionException>(() => host.RunAsync(Requests(Config(), new Request()), Collect([]), Ct).WaitAsync(Timeout, Ct));

        Assert.Contains("no type set", ex.Message, StringComparison.Ordinal);
    }

    private static Func<Response, CancellationToken, ValueTask> Collect(List<Response> responses, Action<Response>? observe = null) => (response, _) =>
    {
        lock (responses)
        {
            responses.Add(response);
        }

        observe?.Invoke(response);
        return ValueTask.CompletedTask;
    };

    private static async IAsyncEnumerable<Request> Requests(params Request[] requests)
    {
        foreach (var request in requests)
        {
            await Task.Yield();
            yield return request;
        }
    }

    /// <summary>A daemon whose connection breaks while its Apply runs (after a Plan it waited for, as the protocol asks).</summary>
    private static async IAsyncEnumerable<Request> BrokenDuringApply(Task planCompleted, Task applyStarted, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return Config();
        yield return Plan();
        await planCompleted.WaitAsync(cancellationToken);
        yield return Apply();
        await applyStarted.WaitAsync(cancellationToken);
        throw new IOException("connection reset");
    }
}
