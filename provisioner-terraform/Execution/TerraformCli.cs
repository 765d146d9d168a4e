using System.Diagnostics;
using System.Text;

using CliWrap;

using Google.Protobuf.WellKnownTypes;

using Microsoft.Extensions.Logging;

using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Telemetry;
using Provisioning.Terraform.Binaries;
using Provisioning.Terraform.Sandbox;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// Runs Terraform commands in one work directory. Canceling a run's token interrupts Terraform (SIGINT),
/// so it can stop gracefully and write its state; if it has not exited after the grace period it is
/// killed. Every command adds a stage timing; <c>-json</c> output is parsed into log entries as it comes.
/// With a sandbox (bubblewrap or a job container), each command runs inside it, with the same logs, interrupt, kill and timings.
/// </summary>
internal sealed class TerraformCli
{
    private readonly TerraformBinary _binary;
    private readonly string _workDirectory;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly TimeSpan _gracePeriod;
    private readonly Func<TerraformLogEntry, CancellationToken, ValueTask> _log;
    private readonly SecretRedactor _redactor;
    private readonly ILogger _logger;
    private readonly BubblewrapSandbox? _sandbox;
    private readonly DockerJobSandbox? _container;
    private readonly TerraformOptions? _options;

    public TerraformCli(
        TerraformBinary binary,
        string workDirectory,
        IReadOnlyDictionary<string, string?> environment,
        TimeSpan gracePeriod,
        Func<TerraformLogEntry, CancellationToken, ValueTask> log,
        SecretRedactor redactor,
        ILogger logger,
        BubblewrapSandbox? sandbox = null,
        TerraformOptions? options = null,
        DockerJobSandbox? container = null)
    {
        if ((sandbox is not null || container is not null) && options is null)
        {
            throw new ArgumentException("A sandboxed run needs the Terraform options, which name the paths it may see.", nameof(options));
        }

        _sandbox = sandbox;
        _container = container;
        _options = options;
        _binary = binary;
        _workDirectory = workDirectory;
        _environment = environment;
        _gracePeriod = gracePeriod;
        _log = log;
        _redactor = redactor;
        _logger = logger;
    }

    public TerraformTimings Timings { get; } = new();

    /// <summary>The secrets of this run, masked in everything that leaves the provisioner except the state.</summary>
    public SecretRedactor Redactor => _redactor;

    /// <summary>
    /// <c>init -json</c> came with Terraform 1.9; older versions, and OpenTofu (whose support differs by
    /// release), get plain output, which is logged line by line.
    /// </summary>
    public bool InitSupportsJson => _binary.Flavor == TerraformFlavor.Terraform && _binary.Version >= new Version(1, 9, 0);

    /// <summary>Writes a line of the provisioner's own into the job log, between Terraform's.</summary>
    public ValueTask LogAsync(Provisioning.Sdk.Protocol.LogLevel level, string output, CancellationToken cancellationToken = default) =>
        _log(new TerraformLogEntry(level, _redactor.Redact(output)), cancellationToken);

    /// <summary>Runs a command whose stdout is Terraform's JSON UI (or plain text), logging every line; throws on failure.</summary>
    public async Task RunLoggedAsync(string stage, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var parser = new TerraformJsonLogParser(stage, Timings);
        var exitCode = await RunAsync(
            stage,
            arguments,
            stdout: line => parser.ParseStdout(line),
            stderr: line => parser.ParseStderr(line) is { } entry ? [entry] : [],
            captured: null,
            cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new TerraformCommandException(arguments[0], exitCode, parser.Diagnostics);
        }
    }

    /// <summary>Runs a command whose stdout is data (show, graph), returning it; stderr is logged.</summary>
    public async Task<string> RunCapturedAsync(string stage, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var parser = new TerraformJsonLogParser(stage, Timings);
        var output = new StringBuilder();
        var exitCode = await RunAsync(
            stage,
            arguments,
            stdout: null,
            stderr: line => parser.ParseStderr(line) is { } entry ? [entry] : [],
            captured: output,
            cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new TerraformCommandException(arguments[0], exitCode, parser.Diagnostics);
        }

        return output.ToString();
    }

    private async Task<int> RunAsync(
        string stage,
        IReadOnlyList<string> arguments,
        Func<string, IReadOnlyList<TerraformLogEntry>>? stdout,
        Func<string, IReadOnlyList<TerraformLogEntry>> stderr,
        StringBuilder? captured,
        CancellationToken cancellationToken)
    {
        var commandName = arguments[0];
        using var activity = ProvisioningTelemetry.Terraform.StartActivity("terraform " + commandName);
        activity?.SetTag("provisioning.stage", stage);
        var started = DateTimeOffset.UtcNow;
        var stopwatch = Stopwatch.StartNew();
        TerraformLog.CommandStarting(_logger, commandName, _workDirectory);

        // stdout and stderr arrive on two threads; the job log wants whole entries, in one order.
        using var logGate = new SemaphoreSlim(1, 1);
        async Task Emit(IReadOnlyList<TerraformLogEntry> entries, CancellationToken token)
        {
            if (entries.Count == 0)
            {
                return;
            }

            await logGate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                foreach (var entry in entries)
                {
                    await _log(entry with { Output = _redactor.Redact(entry.Output) }, token).ConfigureAwait(false);
                }
            }
            finally
            {
                logGate.Release();
            }
        }

        // The forceful token fires a grace period after the graceful one: an interrupt first, then a kill.
        using var forceful = new CancellationTokenSource();
        await using var escalation = cancellationToken.Register(() =>
        {
            TerraformLog.CommandInterrupted(_logger, commandName, _gracePeriod);
            forceful.CancelAfter(_gracePeriod);
        }).ConfigureAwait(false);

        if (_container is not null)
        {
            return await RunInContainerAsync(stage, arguments, stdout, stderr, captured, Emit, started, stopwatch, activity, forceful.Token, cancellationToken).ConfigureAwait(false);
        }

        var stdoutTarget = captured is not null
            ? PipeTarget.ToStringBuilder(captured, Encoding.UTF8)
            : PipeTarget.ToDelegate((line, token) => Emit(stdout!(line), token), Encoding.UTF8);
        var sandboxEnvironment = _sandbox?.Environment(_environment, Environment.GetEnvironmentVariables());
        var command = (_sandbox is null
                ? ProcessGroup.Wrap(_binary.Path, arguments).WithEnvironmentVariables(_environment)
                : ProcessGroup.Wrap(_sandbox.Executable, _sandbox.Wrap(_binary, _workDirectory, _options!, arguments, sandboxEnvironment!))
                    .WithEnvironmentVariables(sandboxEnvironment!))
            .WithWorkingDirectory(_workDirectory)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(stdoutTarget)
            .WithStandardErrorPipe(PipeTarget.ToDelegate((line, token) => Emit(stderr(line), token), Encoding.UTF8));

        var succeeded = false;
        var processId = 0;
        try
        {
            // In a sandbox the started process is bubblewrap, which an interrupt would kill (taking Terraform down
            // before it saved its state): the interrupt goes to Terraform itself, and CliWrap only kills.
            var task = _sandbox is null
                ? command.ExecuteAsync(forceful.Token, cancellationToken)
                : command.ExecuteAsync(forceful.Token, CancellationToken.None);
            processId = task.ProcessId;
            CancellationTokenRegistration interrupt = default;
            if (_sandbox is not null)
            {
                var bubblewrap = processId;
                var terraformPath = _binary.Path;
                interrupt = cancellationToken.Register(() => _ = BubblewrapSandbox.InterruptAsync(bubblewrap, terraformPath, forceful.Token));
            }

            CommandResult result;
            await using (interrupt.ConfigureAwait(false))
            {
                result = await task.ConfigureAwait(false);
            }

            TerraformLog.CommandFinished(_logger, commandName, result.ExitCode, stopwatch.ElapsedMilliseconds);

            // As CliWrap does for an interrupted process: a canceled run ends as canceled, whatever Terraform's exit code.
            cancellationToken.ThrowIfCancellationRequested();
            succeeded = result.ExitCode == 0;
            return result.ExitCode;
        }
        catch (OperationCanceledException)
        {
            // Only after a cancellation: on success, a template may have started a background service
            // on purpose, and it must survive.
            await ProcessGroup.KillAsync(processId).ConfigureAwait(false);
            throw;
        }
        finally
        {
            Finish(stage, commandName, started, succeeded, activity);
        }
    }

    /// <summary>
    /// <see cref="RunAsync"/> in a job container: the same lines to the same parsers, the interrupt to Terraform (the
    /// container's main process) on <paramref name="cancellationToken"/>, SIGKILL to the whole container after the grace
    /// period, the same timing and the same canceled ending.
    /// </summary>
    private async Task<int> RunInContainerAsync(
        string stage,
        IReadOnlyList<string> arguments,
        Func<string, IReadOnlyList<TerraformLogEntry>>? stdout,
        Func<string, IReadOnlyList<TerraformLogEntry>> stderr,
        StringBuilder? captured,
        Func<IReadOnlyList<TerraformLogEntry>, CancellationToken, Task> emit,
        DateTimeOffset started,
        Stopwatch stopwatch,
        Activity? activity,
        CancellationToken forceful,
        CancellationToken cancellationToken)
    {
        var commandName = arguments[0];
        var succeeded = false;
        try
        {
            var environment = SandboxView.Environment(_environment, Environment.GetEnvironmentVariables(), path: "", home: "");
            var (readOnly, readWrite) = SandboxView.Paths(_options!, arguments, environment);
            var exitCode = await _container!.RunAsync(
                _workDirectory,
                [_binary.Path, .. arguments],
                environment,
                readOnly,
                readWrite,
                (line, _) =>
                {
                    if (captured is not null)
                    {
                        captured.Append(line).Append('\n');
                        return Task.CompletedTask;
                    }

                    return emit(stdout!(line), CancellationToken.None);
                },
                (line, _) => emit(stderr(line), CancellationToken.None),
                cancellationToken,
                forceful).ConfigureAwait(false);
            TerraformLog.CommandFinished(_logger, commandName, exitCode, stopwatch.ElapsedMilliseconds);

            // As CliWrap does for an interrupted process: a canceled run ends as canceled, whatever Terraform's exit code.
            cancellationToken.ThrowIfCancellationRequested();
            succeeded = exitCode == 0;
            return exitCode;
        }
        finally
        {
            Finish(stage, commandName, started, succeeded, activity);
        }
    }

    private void Finish(string stage, string commandName, DateTimeOffset started, bool succeeded, Activity? activity)
    {
        activity?.SetStatus(succeeded ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
        Timings.Add(new Timing
        {
            Start = Timestamp.FromDateTimeOffset(started),
            End = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Action = "terraform " + commandName,
            Source = "terraform",
            Resource = "",
            Stage = stage,
            State = succeeded ? TimingState.Completed : TimingState.Failed,
        });
    }
}
