using System.Globalization;

namespace Provisioning.Bench;

/// <summary>A process's CPU time from /proc/PID/stat: its own (user + system) and that of its children it waited for.</summary>
internal readonly record struct ProcessCpu(double Own, double Children)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux.

    public static ProcessCpu Read(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name is in parentheses and may hold spaces: the fields after it are space-separated.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture) / TicksPerSecond;
        return new ProcessCpu(Field(14) + Field(15), Field(16) + Field(17));
    }

    /// <summary>
    /// The CPU of a PostgreSQL cluster whose data directory lies under <paramref name="directory"/> (the built-in one of a
    /// fleet: pg_ctl starts it detached, so it is not under the server's process): the postmaster and every live process
    /// under it, each one's own plus its waited-for children's (backends that ended). Zero when no such postmaster runs.
    /// </summary>
    public static ProcessCpu ReadPostgres(string directory)
    {
        var parents = new Dictionary<int, int>();
        var postmaster = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(entry, "stat"));
                parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                var command = File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0');
                if (command.Length > 2 && Path.GetFileName(command[0]) == "postgres" && command.Contains(Path.Combine(directory, "server", "postgres", "data")))
                {
                    postmaster = pid;
                }
            }
            catch (IOException)
            {
                // Ended while the directory was listed.
            }
        }

        var total = 0.0;
        foreach (var pid in parents.Keys)
        {
            var ancestor = pid;
            while (ancestor > 1 && ancestor != postmaster && parents.TryGetValue(ancestor, out var next))
            {
                ancestor = next;
            }

            if (postmaster != 0 && ancestor == postmaster)
            {
                try
                {
                    var cpu = Read(pid);
                    total += cpu.Own + cpu.Children;
                }
                catch (IOException)
                {
                    // Ended since.
                }
            }
        }

        return new ProcessCpu(total, 0);
    }

    public static ProcessCpu operator -(ProcessCpu left, ProcessCpu right) => new(left.Own - right.Own, left.Children - right.Children);
}
