using System.Globalization;

namespace Provisioning.Bench;

/// <summary>The machine's load average (1, 5, 15 minutes), recorded next to every figure: this machine is shared.</summary>
internal static class Load
{
    public static string Now()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', fields.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    public static string Timestamp() => DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
