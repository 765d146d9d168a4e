using System.Diagnostics;

namespace Provisioning.Coordinator.Tests.Cli;

/// <summary>
/// Runs the real `provisioning` executable (built next to the tests) against a coordinator, as a user would without a
/// terminal: stdin closed, stdout and stderr captured, bounded in time.
/// </summary>
internal static class CliProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static string Executable => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "provisioning.exe" : "provisioning");

    /// <summary>Starts the CLI; await <see cref="Run.EndAsync"/> for its result.</summary>
    public static Run Start(Uri url, string token, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PROVISIONING_URL"] = url.ToString();
        info.Environment["PROVISIONING_SESSION_TOKEN"] = token;
        info.Environment["PROVISIONING_HOME"] = Path.Combine(Path.GetTempPath(), "provisioning-cli-" + Guid.NewGuid().ToString("N")[..8]);
        info.Environment.Remove("NO_COLOR");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        process.StandardInput.Close();
        return new Run(process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    public static Task<CliRun> RunAsync(Uri url, string token, params string[] arguments) => Start(url, token, null, arguments).EndAsync();

    /// <summary>A running CLI.</summary>
    internal sealed class Run(Process process, Task<string> stdout, Task<string> stderr)
    {
        public async Task<CliRun> EndAsync()
        {
            using (process)
            {
                using var timeout = new CancellationTokenSource(Timeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                    Assert.Fail($"The CLI did not end within {Timeout}: {await stdout} {await stderr}");
                }

                return new CliRun(process.ExitCode, await stdout, await stderr);
            }
        }
    }
}
