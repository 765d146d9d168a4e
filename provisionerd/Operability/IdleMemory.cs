using System.Runtime.InteropServices;

namespace Provisioning.Daemon.Operability;

/// <summary>
/// Gives back the memory a daemon's builds grew it to, once no job runs (<see cref="ProvisionerDaemonOptions.CompactMemoryWhenIdle"/>;
/// docs/decisions/0021-idle-daemon-memory-and-conversion-speed.md).
/// </summary>
internal static partial class IdleMemory
{
    private static bool _nativeTrimUnavailable;

    /// <summary>
    /// An aggressive, compacting collection returns the managed heap a build grew; then the C library's allocator gives
    /// back the free pages of its arenas (what the runtime, the JIT and TLS allocated natively and freed), which it
    /// otherwise keeps: 3.7 MB of an idle daemon's 18 MB of anonymous memory after 20 builds (bench/README.md).
    /// </summary>
    public static void Release()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux() && !_nativeTrimUnavailable)
        {
            try
            {
                _ = MallocTrim(0);
            }
            catch (EntryPointNotFoundException)
            {
                // A C library without malloc_trim (musl, as on Alpine): its allocator returns freed memory by itself.
                _nativeTrimUnavailable = true;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
