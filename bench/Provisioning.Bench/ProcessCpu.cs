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

    public static ProcessCpu operator -(ProcessCpu left, ProcessCpu right) => new(left.Own - right.Own, left.Children - right.Children);
}
