using System.Diagnostics;

using Provisioning.Daemon.Jobs;

namespace Provisioning.Daemon.Tests.Jobs;

/// <summary>Real child processes working in a directory, as a Terraform left behind by a killed daemon would be.</summary>
public sealed class OrphanedProcessesTests
{
    [Fact(Timeout = 60_000)]
    public async Task StopAsync_AProcessWorkingInTheDirectory_IsInterruptedAndOneIgnoringSigintIsKilled()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Orphans are found through /proc, on Linux.");
        var cancellationToken = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("provisioning-orphans-").FullName;
        var elsewhere = Directory.CreateTempSubdirectory("provisioning-not-orphans-").FullName;
        using var polite = Start("exec sleep 300", Path.Combine(directory));
        using var stubborn = Start("trap '' INT; while true; do sleep 0.2; done", directory);
        using var unrelated = Start("exec sleep 300", elsewhere);
        try
        {
            await WaitUntilFoundAsync(directory, 2, cancellationToken);

            var stopped = await OrphanedProcesses.StopAsync(directory, TimeSpan.FromSeconds(2), cancellationToken);

            Assert.True(stopped >= 2, $"Found {stopped} process(es) in the directory, expected the two started there.");
            await polite.WaitForExitAsync(cancellationToken);
            await stubborn.WaitForExitAsync(cancellationToken);
            Assert.False(unrelated.HasExited);
            Assert.Empty(OrphanedProcesses.FindIn(directory));
        }
        finally
        {
            foreach (var process in new[] { polite, stubborn, unrelated }.Where(process => !process.HasExited))
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    private static Process Start(string script, string workingDirectory) =>
        Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script]) { WorkingDirectory = workingDirectory, UseShellExecute = false })
        ?? throw new InvalidOperationException("sh did not start.");

    private static async Task WaitUntilFoundAsync(string directory, int count, CancellationToken cancellationToken)
    {
        for (var attempt = 0; OrphanedProcesses.FindIn(directory).Count < count; attempt++)
        {
            Assert.True(attempt < 100, "The test's processes never showed up in /proc as working in the directory.");
            await Task.Delay(50, cancellationToken);
        }
    }
}
