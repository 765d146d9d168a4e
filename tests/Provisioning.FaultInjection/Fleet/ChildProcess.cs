using System.Diagnostics;
using System.Globalization;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// One long-running process of the fleet (`provisioning server` or `provisioning provisioner start`): started in a
/// working directory under the run's root (which is how <see cref="ProcessSweeper"/> finds whatever it leaves behind),
/// its stdout and stderr appended to a log file, signalled and awaited with bounds only.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logGate = new();

    private ChildProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public static ChildProcess Start(string executable, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?> environment, string logFile)
    {
        Directory.CreateDirectory(workingDirectory);
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        process.StandardInput.Close();
        var child = new ChildProcess(process, log);
        child.Append($"--- started pid {process.Id}: {executable} {string.Join(' ', start.ArgumentList)}");
        process.OutputDataReceived += (_, line) => child.Append(line.Data);
        process.ErrorDataReceived += (_, line) => child.Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    public bool Signal(int signal) => !_process.HasExited && Signals.Send(_process.Id, signal);

    /// <summary>Waits for the process to end; false when it still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="grace"/>, then SIGKILLs; returns the exit code (null: killed).</summary>
    public async Task<int?> StopAsync(int signal, TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        Signals.Send(_process.Id, Signals.Continue); // A stopped process cannot act on SIGTERM.
        Signals.Send(_process.Id, signal);
        if (await WaitForExitAsync(grace).ConfigureAwait(false))
        {
            return _process.ExitCode;
        }

        Signals.Send(_process.Id, Signals.Kill);
        await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, Signals.Kill);
        }

        _process.Dispose();
        lock (_logGate)
        {
            _log.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logGate)
        {
            try
            {
                _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} {line}"));
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after Dispose belongs to a process that is being killed.
            }
        }
    }
}
