using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Provisioning.Coordinator.Tests.Fleet;

/// <summary>
/// A `provisioning provisioner start` process of the built CLI (PSK, one tag, its own cache), with its
/// output collected so tests can wait for log lines. Dispose kills whatever is still running.
/// </summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private DaemonProcess(Process process, string name, string cacheDirectory)
    {
        Process = process;
        Name = name;
        CacheDirectory = cacheDirectory;
    }

    public Process Process { get; }

    public string Name { get; }

    public string CacheDirectory { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static DaemonProcess Start(Uri coordinator, string psk, IReadOnlyDictionary<string, string> tags, int slots)
    {
        var name = "process-daemon-" + Guid.NewGuid().ToString("N")[..8];
        var cache = Directory.CreateTempSubdirectory("provisioning-fleet-process-").FullName;
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "provisioning.exe" : "provisioning"))
        {
            ArgumentList = { "provisioner", "start", "--url", coordinator.ToString().TrimEnd('/'), "--name", name, "--slots", slots.ToString(CultureInfo.InvariantCulture), "--cache-dir", cache },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["PROVISIONING_PROVISIONER_PSK"] = psk },
        };
        foreach (var (key, value) in tags)
        {
            start.ArgumentList.Add("--tag");
            start.ArgumentList.Add($"{key}={value}");
        }

        var process = new Process { StartInfo = start };
        var daemon = new DaemonProcess(process, name, cache);
        process.OutputDataReceived += (_, line) => daemon.Append(line.Data);
        process.ErrorDataReceived += (_, line) => daemon.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>Sends a signal (TERM, KILL, INT) to the daemon process only.</summary>
    public async Task SignalAsync(string signal, CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", ["-" + signal, Process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits (bounded) until the process printed <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"The daemon printed no '{text}' within {timeout}:\n{Output}");
            if (Process.HasExited)
            {
                Assert.Fail($"The daemon exited ({Process.ExitCode}) before printing '{text}':\n{Output}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }

        Process.Dispose();
        try
        {
            Directory.Delete(CacheDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
