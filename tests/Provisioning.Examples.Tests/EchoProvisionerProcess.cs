using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Provisioning.Examples.Tests;

/// <summary>The built echo provisioner, started with <c>dotnet</c> as its own process on a socket in a temp folder.</summary>
public sealed class EchoProvisionerProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _directory = Directory.CreateTempSubdirectory("provisioning-echo-").FullName;
    private Process? _process;

    private EchoProvisionerProcess()
    {
    }

    public string SocketPath => Path.Combine(_directory, "echo.sock");

    public Process Process => _process ?? throw new InvalidOperationException("The echo provisioner is not started.");

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

    public static string AssemblyPath { get; } = typeof(EchoProvisionerProcess).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "EchoProvisionerAssembly").Value!;

    /// <summary>Starts the provisioner and waits until it says it listens.</summary>
    public static async Task<EchoProvisionerProcess> StartAsync()
    {
        var echo = new EchoProvisionerProcess();
        try
        {
            await echo.LaunchAsync();
            return echo;
        }
        catch
        {
            await echo.DisposeAsync();
            throw;
        }
    }

    private async Task LaunchAsync()
    {
        Assert.True(File.Exists(AssemblyPath), $"The echo provisioner is not built at {AssemblyPath}; build tests/Provisioning.Examples.Tests, which builds it.");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { AssemblyPath, "--socket", SocketPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        _process.OutputDataReceived += (_, line) => Record(line.Data);
        _process.ErrorDataReceived += (_, line) => Record(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Bounded: a provisioner that never listens fails the tests with its output instead of hanging them.
        var exited = _process.WaitForExitAsync();
        var ready = await Task.WhenAny(_listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        if (ready != _listening.Task)
        {
            throw new InvalidOperationException($"The echo provisioner did not start listening within 30 s (exited: {_process.HasExited}). Its output:\n{Output}");
        }
    }

    /// <summary>Sends SIGTERM, as a service manager would, and waits (bounded) for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!)
        {
            await kill.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(timeout);
        await Process.WaitForExitAsync(wait.Token);
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains("Echo provisioner listening on", StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
    }
}
