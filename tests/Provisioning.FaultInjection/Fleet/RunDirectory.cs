using System.Globalization;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// The run's temporary root, /tmp/provisioning-faults-*: the database, the coordinator's and daemons' homes, their logs
/// and the workspaces' marker directories all live inside, so that one sweep finds everything the run started. The
/// root names its owner (process id and start time); a later run removes the roots of owners that are gone, killing
/// what still runs there and stopping their PostgreSQL, so that even a SIGKILLed run leaves nothing behind for long.
/// </summary>
internal sealed class RunDirectory
{
    private const string Prefix = "provisioning-faults-";
    private const string OwnerFile = "owner";
    private const string KeptFile = "kept";

    private RunDirectory(string path) => Path = path;

    public string Path { get; }

    public string Logs => System.IO.Path.Combine(Path, "logs");

    public string PostgresData => DataDirectoryOf(Path);

    public static RunDirectory Create()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);

        // The postgres system user (the cluster's owner when the suite runs as root) must traverse it.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
        Directory.CreateDirectory(System.IO.Path.Combine(path, "logs"));
        File.WriteAllText(System.IO.Path.Combine(path, OwnerFile), OwnerIdentity(Environment.ProcessId) + "\n");
        return new RunDirectory(path);
    }

    /// <summary>Removes the roots of earlier runs whose owner is gone; returns what it removed.</summary>
    public static async Task<IReadOnlyList<string>> SweepStaleAsync()
    {
        var removed = new List<string>();
        foreach (var root in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), Prefix + "*"))
        {
            var owner = System.IO.Path.Combine(root, OwnerFile);
            var recorded = File.Exists(owner) ? (await File.ReadAllTextAsync(owner).ConfigureAwait(false)).Trim() : string.Empty;
            var processId = int.TryParse(recorded.Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;
            if ((processId > 0 && OwnerIdentity(processId) == recorded) || File.Exists(System.IO.Path.Combine(root, KeptFile)))
            {
                continue; // Another run, still going; or one kept on purpose (--keep), already stopped, for a post-mortem.
            }

            await RemoveAsync(root).ConfigureAwait(false);
            removed.Add(root);
        }

        return removed;
    }

    /// <summary>Marks the root as kept on purpose (its processes already stopped), so that later runs leave it alone.</summary>
    public void MarkKept() => File.WriteAllText(System.IO.Path.Combine(Path, KeptFile), "kept by --keep; delete this directory by hand\n");

    /// <summary>Stops the run's PostgreSQL, kills what still runs under the root, and deletes it.</summary>
    public static async Task RemoveAsync(string root)
    {
        await PostgresCluster.StopAsync(DataDirectoryOf(root)).ConfigureAwait(false);
        ProcessSweeper.KillUnder(root);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 5)
            {
                // A process killed a moment ago may still have been writing a file.
                await Task.Delay(500).ConfigureAwait(false);
            }
        }
    }

    private static string DataDirectoryOf(string root) => System.IO.Path.Combine(root, "postgres", "data");

    /// <summary>"pid starttime": the start time (field 22 of /proc/pid/stat) tells a live owner from a reused process id.</summary>
    private static string OwnerIdentity(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return string.Create(CultureInfo.InvariantCulture, $"{processId} {fields[19]}");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{processId} gone");
        }
    }
}
