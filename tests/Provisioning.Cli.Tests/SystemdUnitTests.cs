using System.Globalization;
using System.Text.RegularExpressions;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// The shipped units under deploy/systemd/, checked by systemd itself (`systemd-analyze verify`) with ExecStart pointing
/// at the built executable. Without systemd-analyze the check skips with a reason, except under CI=true, where .ci/run
/// installs systemd.
/// </summary>
public sealed partial class SystemdUnitTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private static string UnitsDirectory => Path.Combine(SharedFolder.RepositoryRoot, "deploy", "systemd");

    [Theory]
    [InlineData("provisioning-server.service", "provisioning-server.service")]
    [InlineData("provisioning-provisioner@.service", "provisioning-provisioner@gpu-eu.service")]
    public async Task SystemdAnalyzeVerify_ShippedUnit_ReportsNothing(string unit, string instance)
    {
        var analyze = ProcessRunner.FindOnPath("systemd-analyze");
        if (analyze is null)
        {
            var reason = "systemd-analyze is not on PATH (apt-get install systemd): the units are not verified.";
            if (SharedFolder.IsCi)
            {
                Assert.Fail(reason + " Under CI=true .ci/run installs it.");
            }

            Assert.Skip(reason);
        }

        var directory = Directory.CreateTempSubdirectory("provisioning-units-");
        try
        {
            // The unit as shipped, only with ExecStart's executable replaced by the one this build made (verify checks it exists).
            var text = await File.ReadAllTextAsync(Path.Combine(UnitsDirectory, unit), TestContext.Current.CancellationToken);
            Assert.Contains("ExecStart=/usr/local/bin/provisioning ", text, StringComparison.Ordinal);
            var path = Path.Combine(directory.FullName, instance);
            await File.WriteAllTextAsync(path, text.Replace("ExecStart=/usr/local/bin/provisioning ", $"ExecStart={CliFleetFixture.Executable} ", StringComparison.Ordinal), TestContext.Current.CancellationToken);

            var result = await ProcessRunner.RunAsync(analyze, ["verify", "--man=no", path], CommandTimeout, workingDirectory: directory.FullName);

            Assert.True(result.ExitCode == 0, result.ToString());
            // verify exits 0 on many warnings too: any line naming our unit is a finding.
            Assert.DoesNotContain(instance, result.Output, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ProvisionerUnit_TimeoutStopSec_CoversTheDrainTimeoutAndTheReports()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(UnitsDirectory, "provisioning-provisioner@.service"), TestContext.Current.CancellationToken);

        var drain = ParseSystemdSpan(Setting(text, "Environment=PROVISIONING_DRAIN_TIMEOUT="));
        var stop = ParseSystemdSpan(Setting(text, "TimeoutStopSec="));

        // The daemon's own stop budget after a drain: ProvisionerDaemonOptions.ShutdownTimeout (2 min) + its 15 s margin
        // + the host's default 30 s. systemd must not kill it before that.
        var daemonStop = drain + TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(15) + TimeSpan.FromSeconds(30);
        Assert.True(stop >= daemonStop, $"TimeoutStopSec {stop} is shorter than the daemon's drain and report budget {daemonStop}.");
        Assert.Equal("SIGTERM", Setting(text, "KillSignal="));
    }

    [Theory]
    [InlineData("provisioning-server.service")]
    [InlineData("provisioning-provisioner@.service")]
    public async Task Unit_RunningBubblewrap_DoesNotRestrictNamespacesAndNotifies(string unit)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(UnitsDirectory, unit), TestContext.Current.CancellationToken);

        Assert.Equal("notify", Setting(text, "Type="));
        Assert.Equal("main", Setting(text, "NotifyAccess="));
        // bubblewrap creates user, PID and mount namespaces: these would break the sandbox.
        Assert.DoesNotMatch(ActiveLine("RestrictNamespaces"), text);
        Assert.DoesNotMatch(ActiveLine("SystemCallFilter"), text);
        Assert.DoesNotMatch(ActiveLine("PrivateUsers"), text);
        Assert.Equal("provisioning", Setting(text, "User="));
    }

    private static string Setting(string unit, string prefix) =>
        unit.Split('\n').Select(line => line.Trim()).LastOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..]
        ?? throw new Xunit.Sdk.XunitException($"The unit has no line '{prefix}…'.");

    /// <summary>systemd's time spans as the units use them: e.g. 2h5min, 5min, 30s, 2h.</summary>
    private static TimeSpan ParseSystemdSpan(string value)
    {
        var total = TimeSpan.Zero;
        var parts = SpanPart().Matches(value);
        Assert.True(parts.Count > 0 && string.Concat(parts.Select(part => part.Value)) == value, $"'{value}' is not a time span this test reads.");
        foreach (Match part in parts)
        {
            var number = int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(number),
                "min" => TimeSpan.FromMinutes(number),
                _ => TimeSpan.FromSeconds(number),
            };
        }

        return total;
    }

    private static Regex ActiveLine(string directive) => new($"(?m)^\\s*{directive}=", RegexOptions.None, TimeSpan.FromSeconds(1));

    [GeneratedRegex("([0-9]+)(h|min|s)")]
    private static partial Regex SpanPart();
}
