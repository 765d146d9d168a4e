using Microsoft.Extensions.Logging;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// Ends a provisioner binary together with the daemon that started it, however the daemon ends — SIGKILL and crashes
/// included (<see href="../../docs/decisions/0019-provisioner-binaries-end-with-their-daemon.md">decision 0019</see>).
/// </summary>
/// <remarks>
/// A daemon that runs a binary (<c>provisioner start --provisioner NAME=PATH</c>) gives it a pipe as standard input,
/// never writes to it, and sets <see cref="EnvironmentVariable"/> to <c>1</c>. Only the daemon holds the pipe's write
/// end, so when the daemon's process ends for any reason the kernel closes it and the binary reads end of file: that is
/// the signal <see cref="WatchDaemon"/> turns into a canceled token. A binary run by hand, by systemd or in a container
/// has no such variable (or no pipe as standard input) and is never stopped by it.
/// </remarks>
public static class DaemonLifeline
{
    /// <summary>The variable a daemon sets (to <c>1</c>) when it holds the binary's standard input open for as long as it lives.</summary>
    public const string EnvironmentVariable = "PROVISIONING_EXIT_WITH_STDIN";

    private static readonly Lock Gate = new();
    private static readonly CancellationTokenSource Gone = new();
    private static bool? _watching;

    /// <summary>
    /// Starts watching standard input (once per process) when a daemon asked for it, and returns a token canceled when the
    /// daemon is gone; <see cref="CancellationToken.None"/> when no daemon asked (the variable is unset, or standard input
    /// is not a pipe, e.g. a shell started the binary in the background and gave it <c>/dev/null</c>).
    /// </summary>
    /// <param name="logger">Told whether the binary watches, and when the daemon is gone; none when null.</param>
    /// <example>
    /// <code>
    /// using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(DaemonLifeline.WatchDaemon(logger));
    /// // ... cancel shutdown on SIGINT/SIGTERM too, then serve until it is canceled.
    /// </code>
    /// </example>
    public static CancellationToken WatchDaemon(ILogger? logger = null)
    {
        lock (Gate)
        {
            if (_watching is null)
            {
                _watching = Start(logger);
            }

            return _watching.Value ? Gone.Token : CancellationToken.None;
        }
    }

    private static bool Start(ILogger? logger)
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) != "1")
        {
            return false;
        }

        if (DescribeNonPipeInput() is { } input)
        {
            if (logger is not null)
            {
                ProvisionerLog.LifelineUnavailable(logger, EnvironmentVariable, input);
            }

            return false;
        }

        var thread = new Thread(() => WaitForEndOfInput(logger))
        {
            // Never keeps the process alive, and a blocking read needs a thread of its own: a pipe read cannot be canceled.
            IsBackground = true,
            Name = "daemon lifeline",
        };
        thread.Start();
        if (logger is not null)
        {
            ProvisionerLog.LifelineWatching(logger);
        }

        return true;
    }

    private static void WaitForEndOfInput(ILogger? logger)
    {
        try
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (input.Read(buffer, 0, buffer.Length) > 0)
            {
                // The daemon writes nothing; anything that arrives is ignored.
            }
        }
        catch (IOException)
        {
            // A broken pipe means the same as end of file: the daemon is gone.
        }

        if (logger is not null)
        {
            ProvisionerLog.LifelineClosed(logger);
        }

        Gone.Cancel();
    }

    /// <summary>What standard input is when it is not a pipe (so no daemon holds it), null for a pipe or where it cannot be told.</summary>
    private static string? DescribeNonPipeInput()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var target = new FileInfo("/proc/self/fd/0").LinkTarget;
            return target is null || target.StartsWith("pipe:", StringComparison.Ordinal) ? null : target;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
