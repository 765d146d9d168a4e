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
    /// The CPU of every live descendant of <paramref name="pid"/> (not the process itself), each one's own plus its waited-for
    /// children's: the built-in PostgreSQL under <c>provisioning server</c> (postmaster, backends, and those that ended, which
    /// the postmaster waited for). A process that is gone when this runs is not counted.
    /// </summary>
    public static ProcessCpu ReadDescendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var child))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[child] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // Ended while the directory was listed.
            }
        }

        var total = new ProcessCpu(0, 0);
        foreach (var candidate in parents.Keys)
        {
            var ancestor = parents[candidate];
            while (ancestor > 1 && ancestor != pid && parents.TryGetValue(ancestor, out var next))
            {
                ancestor = next;
            }

            if (ancestor == pid)
            {
                try
                {
                    var cpu = Read(candidate);
                    total = new ProcessCpu(total.Own + cpu.Own + cpu.Children, 0);
                }
                catch (IOException)
                {
                    // Ended since.
                }
            }
        }

        return total;
    }

    public static ProcessCpu operator -(ProcessCpu left, ProcessCpu right) => new(left.Own - right.Own, left.Children - right.Children);
}
