using System.Globalization;
using System.Runtime.InteropServices;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// Processes that an earlier run of this daemon left working in a job's work directory: a daemon killed on its own
/// (not its whole process tree) leaves Terraform running, still creating resources and writing state. Before the
/// daemon reads that directory's state, it interrupts them (SIGINT: Terraform stops gracefully and writes its state),
/// waits a grace period, then kills what is left, so the state it reports names everything that was created.
/// Found through /proc: a process whose working directory, or command line, is inside the directory (a sandbox's
/// bubblewrap names the directory it binds on its command line).
/// </summary>
internal static partial class OrphanedProcesses
{
    private const int SignalInterrupt = 2;
    private const int SignalKill = 9;

    /// <summary>The ids of live processes working in <paramref name="directory"/> (none but this process's children can be, on other systems than Linux).</summary>
    public static IReadOnlyList<int> FindIn(string directory)
    {
        if (!OperatingSystem.IsLinux() || !System.IO.Directory.Exists("/proc"))
        {
            return [];
        }

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var entry in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self)
            {
                continue;
            }

            try
            {
                var cwd = new FileInfo(Path.Combine(entry, "cwd")).LinkTarget;
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (IsAlive(pid) && ((cwd is not null && IsInside(cwd, root)) || commandLine.Contains(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || commandLine.Contains(root + " ", StringComparison.Ordinal)))
                {
                    found.Add(pid);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process ended meanwhile, or is not ours to read.
            }
        }

        return found;
    }

    /// <summary>Interrupts the processes working in <paramref name="directory"/>, waits up to <paramref name="grace"/> for them to end, then kills the rest; returns how many there were.</summary>
    public static async Task<int> StopAsync(string directory, TimeSpan grace, CancellationToken cancellationToken)
    {
        var processes = FindIn(directory);
        if (processes.Count == 0)
        {
            return 0;
        }

        foreach (var pid in processes)
        {
            _ = Kill(pid, SignalInterrupt);
        }

        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && processes.Any(IsAlive))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }

        foreach (var pid in processes.Where(IsAlive))
        {
            _ = Kill(pid, SignalKill);
        }

        // A process killed or interrupted may have started a child meanwhile (a shell's next command): kill those too,
        // until the directory is quiet.
        for (var round = 0; round < 10; round++)
        {
            var started = FindIn(directory);
            if (started.Count == 0)
            {
                break;
            }

            foreach (var pid in started)
            {
                _ = Kill(pid, SignalKill);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        return processes.Count;
    }

    private static bool IsInside(string path, string root) =>
        path == root || path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    // A zombie (ended, not yet reaped by its parent) counts as ended: it holds no files and writes nothing.
    private static bool IsAlive(int pid)
    {
        try
        {
            var status = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = status[(status.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z') && !state.StartsWith('X');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
