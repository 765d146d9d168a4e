using System.Diagnostics;
using System.Text;

using CliWrap;

using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Operability;
using Provisioning.Sdk.Provisioners;

namespace Provisioning.Daemon;

/// <summary>
/// A provisioner binary the daemon starts and supervises (<c>provisioner start --provisioner NAME=PATH</c>): it runs
/// <c>PATH --socket SOCKET</c> and talks <c>provisioner.proto</c> to it over that Unix socket, as
/// <see cref="UnixSocketDaemonProvisioner"/> does with one started by someone else
/// (<see href="../docs/decisions/0017-out-of-process-provisioners.md">decision 0017</see>).
/// </summary>
/// <remarks>
/// The socket lives in a private (0700) directory of its own. When the binary exits while the daemon runs, it is
/// started again (jobs it was running fail with its error); after <see cref="MaxRestarts"/> exits within
/// <see cref="RestartWindow"/>, or when it does not come back, <see cref="Failure"/> faults and the daemon stops
/// with exit code 4 rather than take jobs it cannot run. Disposing stops it: SIGTERM, then a kill after
/// <see cref="StopTimeout"/>. SIGTERM rather than SIGINT: a process started in the background by a non-interactive
/// shell ignores SIGINT, and its children inherit that. However the daemon ends — killed included — the binary's
/// standard input, a pipe only the daemon holds, closes: a binary that watches it (<see cref="DaemonLifeline"/>, as the
/// SDK's example does) stops too (decision 0019).
/// </remarks>
public sealed partial class ProcessDaemonProvisioner : IDaemonProvisioner, IAsyncDisposable
{
    /// <summary>Exits tolerated within <see cref="RestartWindow"/>; one more stops the daemon.</summary>
    public const int MaxRestarts = 3;

    /// <summary>The window <see cref="MaxRestarts"/> counts exits in.</summary>
    public static readonly TimeSpan RestartWindow = TimeSpan.FromMinutes(5);

    /// <summary>How long a started binary has to accept a session on its socket.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long the binary has to end after SIGTERM, on shutdown, before it is killed.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private const int OutputTailLines = 20;

    /// <summary>
    /// The binary's standard input: a pipe this process holds open and never writes to, until the binary exits (CliWrap
    /// cancels the token then). When this process ends — a SIGKILL included — the kernel closes it, the binary reads end of
    /// file and stops (<see cref="DaemonLifeline"/>, decision 0019).
    /// </summary>
    private static readonly PipeSource Lifeline = PipeSource.Create((_, cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken));

    private readonly ILogger _logger;
    private readonly string _directory;
    private readonly UnixSocketProvisionerConnection _connection;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _outputTail = new();
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private Running? _running;
    private Task? _supervision;

    /// <param name="type">The provisioner type announced to the coordinator, e.g. <c>echo</c>.</param>
    /// <param name="executablePath">The binary; it is run as <c>PATH --socket SOCKET</c>.</param>
    /// <param name="logger">Receives the binary's output (one line per record) and its exits.</param>
    public ProcessDaemonProvisioner(string type, string executablePath, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentException.ThrowIfNullOrWhiteSpace(executablePath);
        ArgumentNullException.ThrowIfNull(logger);
        Type = type;
        ExecutablePath = Path.GetFullPath(executablePath);
        _logger = logger;

        // A socket path is limited to about 100 bytes, so the directory is a short temporary one, not under the cache.
        _directory = Directory.CreateTempSubdirectory("provisioner-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        _connection = new UnixSocketProvisionerConnection(Path.Combine(_directory, "provisioner.sock"));
    }

    public string Type { get; }

    /// <summary>The binary's full path.</summary>
    public string ExecutablePath { get; }

    /// <summary>The socket the binary serves on.</summary>
    public string SocketPath => _connection.SocketPath;

    /// <summary>The running binary's process id; 0 while none runs.</summary>
    public int ProcessId => _running?.ProcessId ?? 0;

    /// <summary>Faults with a <see cref="ProvisionerDaemonException"/> when the binary keeps exiting or cannot be started again.</summary>
    public Task Failure => _failure.Task;

    /// <summary>Starts the binary (once) and waits until it accepts a session on its socket.</summary>
    public async Task<string> CheckAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_running is null)
            {
                _running = await StartAsync(cancellationToken).ConfigureAwait(false);
                _supervision = Task.Run(SuperviseAsync, CancellationToken.None);
            }
        }
        finally
        {
            _startGate.Release();
        }

        return $"{ExecutablePath} (pid {ProcessId}) serving on {SocketPath}";
    }

    public IProvisionerConnection Connect(string workDirectory) => _connection;

    /// <summary>Stops the binary: SIGTERM, then a kill after <see cref="StopTimeout"/>; removes its socket directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_running is { } running)
        {
            await running.StopAsync().ConfigureAwait(false);
        }

        if (_supervision is not null)
        {
            await _supervision.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _connection.Dispose();
        _failure.TrySetCanceled();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary directory.
        }
    }

    private async Task<Running> StartAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new FileNotFoundException($"The provisioner binary {ExecutablePath} does not exist: pass --provisioner {Type}=PATH with the path of an executable.", ExecutablePath);
        }

        File.Delete(SocketPath);
        var forceful = new CancellationTokenSource();
        var command = Cli.Wrap(ExecutablePath)
            .WithArguments(["--socket", SocketPath])
            .WithEnvironmentVariables(ChildEnvironment)
            .WithStandardInputPipe(Lifeline)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToDelegate(Output, Encoding.UTF8))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(Output, Encoding.UTF8));
        CommandTask<CommandResult> task;
        try
        {
            task = command.ExecuteAsync(forceful.Token);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            forceful.Dispose();
            throw new InvalidOperationException($"The provisioner binary {ExecutablePath} cannot be started ({ex.Message}): is it executable (chmod +x)?", ex);
        }

        var running = new Running(task, forceful);
        ProcessProvisionerLog.Started(_logger, Type, ExecutablePath, running.ProcessId, SocketPath);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (task.Task.IsCompleted)
            {
                var exit = await running.ExitCodeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"The provisioner binary {ExecutablePath} exited with code {exit} before it served {SocketPath}{OutputTail()}");
            }

            try
            {
                var session = await _connection.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
                await session.DisposeAsync().ConfigureAwait(false);
                return running;
            }
            catch (ProvisionerSessionException) when (deadline.Elapsed < StartTimeout)
            {
                // Not listening yet.
            }
            catch (ProvisionerSessionException ex)
            {
                await running.StopAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"The provisioner binary {ExecutablePath} did not serve {SocketPath} within {StartTimeout.TotalSeconds:0} s ({ex.Message}); it was stopped{OutputTail()}", ex);
            }
            catch (OperationCanceledException)
            {
                await running.StopAsync().ConfigureAwait(false);
                throw;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The daemon's environment without its own settings (<c>PROVISIONING_*</c>: keys, the server's database URL when the
    /// daemon is the server's built-in one), which the binary has no use for, plus the lifeline's variable.
    /// </summary>
    private static void ChildEnvironment(CliWrap.Builders.EnvironmentVariablesBuilder environment)
    {
        foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>())
        {
            if (name.StartsWith("PROVISIONING_", StringComparison.Ordinal))
            {
                environment.Set(name, null);
            }
        }

        environment.Set(DaemonLifeline.EnvironmentVariable, "1");
    }

    private async Task SuperviseAsync()
    {
        var exits = new Queue<DateTimeOffset>();
        while (_running is { } running)
        {
            var exitCode = await running.ExitCodeAsync().ConfigureAwait(false);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            var now = DateTimeOffset.UtcNow;
            exits.Enqueue(now);
            while (exits.Peek() < now - RestartWindow)
            {
                exits.Dequeue();
            }

            if (exits.Count > MaxRestarts)
            {
                Fail($"The {Type} provisioner ({ExecutablePath}) exited {exits.Count} times within {RestartWindow.TotalMinutes:0} minutes (last exit code {exitCode}), "
                    + $"so the daemon stops instead of taking jobs it cannot run: fix the provisioner and start the daemon again{OutputTail()}");
                return;
            }

            var delay = TimeSpan.FromSeconds(Math.Pow(2, exits.Count - 1));
            ProcessProvisionerLog.Exited(_logger, Type, running.ProcessId, exitCode, exits.Count, MaxRestarts, delay);
            try
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
                await _startGate.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    _running = await StartAsync(_stopping.Token).ConfigureAwait(false);
                }
                finally
                {
                    _startGate.Release();
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                Fail($"The {Type} provisioner exited (code {exitCode}) and could not be started again, so the daemon stops: {ex.Message}");
                return;
            }
        }
    }

    private void Fail(string message)
    {
        ProcessProvisionerLog.GaveUp(_logger, Type, message);
        _failure.TrySetException(new ProvisionerDaemonException(message, ProvisionerDaemonException.ProvisionerExitCode));
    }

    private void Output(string line)
    {
        ProcessProvisionerLog.Output(_logger, Type, line);
        lock (_outputTail)
        {
            _outputTail.Enqueue(line);
            while (_outputTail.Count > OutputTailLines)
            {
                _outputTail.Dequeue();
            }
        }
    }

    private string OutputTail()
    {
        lock (_outputTail)
        {
            return _outputTail.Count == 0 ? "; it printed nothing." : ". Its last output:\n" + string.Join('\n', _outputTail);
        }
    }

    /// <summary>One started binary and the tokens that interrupt and kill it.</summary>
    private sealed class Running(CommandTask<CommandResult> task, CancellationTokenSource forceful)
    {
        public int ProcessId { get; } = task.ProcessId;

        public async Task<int> ExitCodeAsync()
        {
            try
            {
                return (await task.ConfigureAwait(false)).ExitCode;
            }
            catch (OperationCanceledException)
            {
                return -1; // Interrupted or killed by StopAsync.
            }
        }

        public async Task StopAsync()
        {
            if (!task.Task.IsCompleted)
            {
                if (OperatingSystem.IsWindows() || Kill(ProcessId, SignalTerminate) != 0)
                {
                    await forceful.CancelAsync().ConfigureAwait(false);
                }

                forceful.CancelAfter(StopTimeout);
                _ = await ExitCodeAsync().ConfigureAwait(false);
            }

            forceful.Dispose();
        }
    }

    private const int SignalTerminate = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
