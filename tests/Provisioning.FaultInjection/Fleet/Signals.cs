using System.Runtime.InteropServices;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>POSIX signals sent with kill(2) (the fault suite runs on Linux only).</summary>
internal static partial class Signals
{
    public const int Kill = 9;
    public const int Term = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="processId"/>; false when the process is gone.</summary>
    public static bool Send(int processId, int signal) => SystemKill(processId, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SystemKill(int processId, int signal);
}
