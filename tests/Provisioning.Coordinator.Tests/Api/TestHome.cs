using System.Runtime.CompilerServices;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// Hosts started without an explicit home directory (the gRPC tests' CoordinatorServer) fall back to
/// $PROVISIONING_HOME, else ~/.config/provisioning, where the first start writes the admin's session token.
/// The test process points $PROVISIONING_HOME at a temporary directory so tests never touch the real one.
/// </summary>
internal static class TestHome
{
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries", Justification = "A test assembly: the setting must be in place before any fixture creates options.")]
    internal static void Isolate()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("PROVISIONING_HOME")))
        {
            var home = Path.Combine(Path.GetTempPath(), $"provisioning-tests-home-{Environment.ProcessId}");
            Environment.SetEnvironmentVariable("PROVISIONING_HOME", home);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                if (Directory.Exists(home))
                {
                    Directory.Delete(home, recursive: true);
                }
            };
        }
    }
}
