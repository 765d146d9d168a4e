using System.Globalization;

using Provisioning.FaultInjection.Checks;

namespace Provisioning.FaultTests.Checks;

/// <summary>A workspace's marker directory, written the way the template's marker.sh writes it, in a temporary folder.</summary>
internal sealed class WorkspaceDiskFixture : IDisposable
{
    public WorkspaceDiskFixture()
    {
        Directory.CreateDirectory(Path.Combine(Root, "ws", "markers"));
        Directory.CreateDirectory(Path.Combine(Root, "ws", "violations"));
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fault-checker-tests-" + Guid.NewGuid().ToString("N")[..12]);

    public WorkspaceDisk Disk => new(Root, "ws");

    public static string JobDirectory(string daemon, Guid job) => $"/tmp/provisioning-faults-x/daemons/{daemon}/cache/jobs/{daemon}/{job}/session";

    public void Run(string phase, int build, string resource, string action, double at, string jobDirectory) =>
        File.AppendAllText(
            Path.Combine(Root, "ws", "runs.log"),
            string.Create(CultureInfo.InvariantCulture, $"{phase} build={build} resource={resource} action={action} at={at:0.000000000} job_dir={jobDirectory}\n"));

    public void Marker(string resource, int build, string jobDirectory) =>
        File.WriteAllText(Path.Combine(Root, "ws", "markers", resource), string.Create(CultureInfo.InvariantCulture, $"build={build} job_dir={jobDirectory}\n"));

    public void LockCollision(string content) => File.WriteAllText(Path.Combine(Root, "ws", "violations", "1-compute"), content);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
