using System.Globalization;

namespace Provisioning.Bench;

/// <summary>
/// The daemon's memory once idle after N builds (`provisioning create` of a 5-resource terraform_data template, one
/// after the other): VmRSS of the daemon's and the server's processes from /proc, after a pause so the daemon is idle.
/// </summary>
internal static class IdleMemoryScenario
{
    private static readonly TimeSpan IdlePause = TimeSpan.FromSeconds(5);

    public static async Task<ScenarioResult> RunAsync(CliFleet fleet, int builds, CancellationToken cancellationToken)
    {
        var template = BuildOverheadScenario.WriteTemplate(Path.Combine(fleet.Root, "templates", "rss"), 5);
        await fleet.PushTemplateAsync("rss", template, cancellationToken).ConfigureAwait(false);
        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        await Task.Delay(IdlePause, cancellationToken).ConfigureAwait(false);
        var daemonBefore = RssMegabytes(fleet.DaemonPid);
        for (var i = 0; i < builds; i++)
        {
            (await fleet.RunCliAsync(["create", string.Create(CultureInfo.InvariantCulture, $"rss-{i}"), "-t", "rss", "-y"], cancellationToken).ConfigureAwait(false)).Require("provisioning create");
        }

        await Task.Delay(IdlePause, cancellationToken).ConfigureAwait(false);
        return new ScenarioResult(
            "rss",
            startedAt,
            loadBefore,
            Load.Now(),
            new Dictionary<string, int>(StringComparer.Ordinal) { ["builds"] = builds },
            [
                new Metric("daemon idle RSS before these builds", daemonBefore, "MB"),
                new Metric("daemon idle RSS after them (target <= 60 MB after 100)", RssMegabytes(fleet.DaemonPid), "MB"),
                new Metric("daemon peak RSS (VmHWM)", ReadStatus(fleet.DaemonPid, "VmHWM:"), "MB"),
                new Metric("daemon idle RSS: anonymous (heap, JIT code, stacks)", ReadStatus(fleet.DaemonPid, "RssAnon:"), "MB"),
                new Metric("daemon idle RSS: file-backed (the runtime's and the app's mapped assemblies)", ReadStatus(fleet.DaemonPid, "RssFile:"), "MB"),
                new Metric("daemon idle RSS: shared memory (JIT code double-mapped for W^X)", ReadStatus(fleet.DaemonPid, "RssShmem:"), "MB"),
                new Metric("daemon idle USS (pages no other process maps: what one more daemon costs)", UssMegabytes(fleet.DaemonPid), "MB"),
                new Metric("daemon idle PSS (shared pages split among the processes mapping them)", ReadField($"/proc/{fleet.DaemonPid}/smaps_rollup", "Pss:"), "MB"),
                new Metric("server idle RSS (coordinator + its PostgreSQL excluded)", RssMegabytes(fleet.ServerPid), "MB"),
            ]);
    }

    public static double RssMegabytes(int pid) => ReadStatus(pid, "VmRSS:");

    public static double PeakMegabytes(int pid) => ReadStatus(pid, "VmHWM:");

    /// <summary>
    /// Unique set size: the private pages, clean or dirty. Pages of files every .NET process maps (the runtime, the
    /// framework) are shared with the server and the other daemons of a machine: they count in the RSS of each, not here.
    /// </summary>
    private static double UssMegabytes(int pid) =>
        ReadField($"/proc/{pid}/smaps_rollup", "Private_Clean:") + ReadField($"/proc/{pid}/smaps_rollup", "Private_Dirty:");

    private static double ReadStatus(int pid, string field) => ReadField($"/proc/{pid}/status", field);

    private static double ReadField(string path, string field)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                // "VmRSS:     93412 kB"
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }
}
