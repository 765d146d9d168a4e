using System.Diagnostics;

using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Terraform.Binaries;
using Provisioning.Terraform.Execution;
using Provisioning.Terraform.Sandbox;

namespace Provisioning.Terraform.Tests.Execution;

/// <summary>The runner against stand-in terraform scripts, for behaviour real Terraform does not show on demand.</summary>
public sealed class TerraformCliTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("provisioning-cli-").FullName;

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunLoggedAsync_ProcessIgnoresInterrupt_IsKilledAfterTheGracePeriod(bool sandboxed)
    {
        var script = Binaries.FakeTerraform.Write(_directory, "terraform", """
            #!/bin/sh
            trap '' INT
            echo '{"@level":"info","@message":"ignoring interrupts","type":"log"}'
            sleep 40 &
            wait
            """);
        var entries = new List<TerraformLogEntry>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cli = CreateCli(script, TimeSpan.FromSeconds(1), (entry, _) =>
        {
            entries.Add(entry);
            started.TrySetResult();
            return ValueTask.CompletedTask;
        }, sandboxed ? await RequireSandboxAsync() : null);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = cli.RunLoggedAsync("init", ["init"], cancel.Token);
        await started.Task.WaitAsync(TestContext.Current.CancellationToken);
        var stopwatch = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        stopwatch.Stop();

        TestContext.Current.TestOutputHelper?.WriteLine($"Killed {stopwatch.ElapsedMilliseconds} ms after the interrupt (grace period 1000 ms).");
        // A lower bound, not a performance figure: the kill waited for the grace period.
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(900), $"killed after {stopwatch.ElapsedMilliseconds} ms");
        Assert.Equal("ignoring interrupts", Assert.Single(entries).Output);
        var timing = Assert.Single(cli.Timings.ToList());
        Assert.Equal(("init", "terraform init", Sdk.Protocol.TimingState.Failed), (timing.Stage, timing.Action, timing.State));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunLoggedAsync_InterruptHandled_TerraformItselfGetsTheInterruptAndTheRunEndsCanceled(bool sandboxed)
    {
        // What real Terraform does on SIGINT: say so, stop, exit non-zero. In a sandbox the interrupt must reach this
        // process, not bubblewrap (which would die and take it down with a kill).
        var script = Binaries.FakeTerraform.Write(_directory, "terraform", """
            #!/bin/sh
            trap 'echo "{\"@level\":\"info\",\"@message\":\"interrupt received\",\"type\":\"log\"}"; exit 1' INT
            echo '{"@level":"info","@message":"working","type":"log"}'
            sleep 40 >/dev/null 2>&1 &
            wait
            """);
        var entries = new List<TerraformLogEntry>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cli = CreateCli(script, TimeSpan.FromSeconds(30), (entry, _) =>
        {
            lock (entries)
            {
                entries.Add(entry);
            }

            started.TrySetResult();
            return ValueTask.CompletedTask;
        }, sandboxed ? await RequireSandboxAsync() : null);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = cli.RunLoggedAsync("apply", ["apply"], cancel.Token);
        await started.Task.WaitAsync(TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        var canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.Equal(cancel.Token, canceled.CancellationToken);
        Assert.Equal(["working", "interrupt received"], entries.Select(entry => entry.Output));
        var timing = Assert.Single(cli.Timings.ToList());
        Assert.Equal(("apply", "terraform apply", Sdk.Protocol.TimingState.Failed), (timing.Stage, timing.Action, timing.State));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunLoggedAsync_FailureWithoutDiagnostics_SaysExitCode(bool sandboxed)
    {
        var script = Binaries.FakeTerraform.Write(_directory, "terraform", "#!/bin/sh\necho 'plain failure' >&2\nexit 7\n");
        var entries = new List<TerraformLogEntry>();
        var cli = CreateCli(script, TimeSpan.FromSeconds(1), (entry, _) =>
        {
            entries.Add(entry);
            return ValueTask.CompletedTask;
        }, sandboxed ? await RequireSandboxAsync() : null);

        var exception = await Assert.ThrowsAsync<TerraformCommandException>(() => cli.RunLoggedAsync("plan", ["plan"], TestContext.Current.CancellationToken));

        Assert.Equal(7, exception.ExitCode);
        Assert.False(exception.HasErrorDiagnostics);
        Assert.Contains("exit code 7", exception.Message, StringComparison.Ordinal);
        Assert.Equal(new TerraformLogEntry(Sdk.Protocol.LogLevel.Error, "plain failure"), Assert.Single(entries));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<BubblewrapSandbox> RequireSandboxAsync()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "bubblewrap is Linux only.");
        var (sandbox, reason) = await BubblewrapSandbox.ProbeAsync(null, TestContext.Current.CancellationToken);
        Assert.True(sandbox is not null, "The sandboxed case needs bubblewrap: " + reason);
        return sandbox;
    }

    private TerraformCli CreateCli(string script, TimeSpan grace, Func<TerraformLogEntry, CancellationToken, ValueTask> log, BubblewrapSandbox? sandbox = null) =>
        new(
            new TerraformBinary(script, new Version(1, 11, 4), TerraformFlavor.Terraform, "linux_amd64"),
            _directory,
            new Dictionary<string, string?>(),
            grace,
            log,
            SecretRedactor.None,
            NullLogger.Instance,
            sandbox,
            new TerraformOptions { CacheDirectory = Path.Combine(_directory, "cache") });
}
