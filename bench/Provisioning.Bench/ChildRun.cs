using System.Diagnostics;

namespace Provisioning.Bench;

/// <summary>One finished child process: its exit code, what it printed, and how long it took from start to exit.</summary>
internal sealed record ChildRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>
    /// Runs <paramref name="executable"/> to its end, bounded by <paramref name="timeout"/> (killed with its children when
    /// it overruns). <paramref name="onLine"/>, when given, sees each stdout line as it arrives (with its
    /// <see cref="Stopwatch.GetTimestamp"/>) instead of it being kept in <see cref="Stdout"/>.
    /// </summary>
    public static async Task<ChildRun> RunAsync(
        string executable,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string?> environment,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        Action<string, long>? onLine = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
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

        var began = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        process.StandardInput.Close();
        var stdout = onLine is null ? process.StandardOutput.ReadToEndAsync(CancellationToken.None) : ReadLinesAsync(process.StandardOutput, onLine);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"`{executable} {string.Join(' ', start.ArgumentList)}` did not end within {timeout.TotalSeconds:0} s:\n{await stderr.ConfigureAwait(false)}");
        }

        var output = await stdout.ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(began);
        return new ChildRun(process.ExitCode, output, await stderr.ConfigureAwait(false), elapsed);
    }

    /// <summary>Throws with what the command printed when it did not exit 0.</summary>
    public ChildRun Require(string what) =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{what} exited with code {ExitCode}:\n{Stderr}\n{(Stdout.Length > 4000 ? Stdout[^4000..] : Stdout)}");

    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string, long> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            onLine(line, Stopwatch.GetTimestamp());
        }

        return string.Empty;
    }
}
