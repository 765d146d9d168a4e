using System.Globalization;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// Finds and SIGKILLs every process that belongs to a run: those whose working directory or command line lies
/// under the run's root. That covers what the fleet's own handles do not: Terraform (the daemon starts it in a
/// session of its own, so it outlives a SIGKILLed daemon), the template's local-exec scripts, and PostgreSQL.
/// Linux only (reads /proc).
/// </summary>
internal static class ProcessSweeper
{
    /// <summary>Kills what runs under <paramref name="root"/>; returns how many processes it killed.</summary>
    public static int KillUnder(string root)
    {
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + "/";
        var killed = 0;
        for (var pass = 0; pass < 5; pass++)
        {
            var found = FindUnder(prefix).ToList();
            if (found.Count == 0)
            {
                break;
            }

            foreach (var processId in found)
            {
                if (Signals.Send(processId, Signals.Kill))
                {
                    killed++;
                }
            }

            Thread.Sleep(200);
        }

        return killed;
    }

    /// <summary>The processes (other than this one) whose working directory or command line names a path under <paramref name="prefix"/>.</summary>
    public static IEnumerable<int> FindUnder(string prefix)
    {
        if (!Directory.Exists("/proc"))
        {
            yield break;
        }

        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var processId) || processId == Environment.ProcessId)
            {
                continue;
            }

            if (IsUnder(entry, prefix))
            {
                yield return processId;
            }
        }
    }

    private static bool IsUnder(string procEntry, string prefix)
    {
        try
        {
            var cwd = new DirectoryInfo(Path.Combine(procEntry, "cwd")).LinkTarget;
            if (cwd is not null && (cwd + "/").StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }

            var commandLine = File.ReadAllText(Path.Combine(procEntry, "cmdline")).Replace('\0', ' ');
            return commandLine.Contains(prefix, StringComparison.Ordinal) || commandLine.Contains(prefix.TrimEnd('/') + " ", StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false; // Gone meanwhile, or not ours to read.
        }
    }
}
