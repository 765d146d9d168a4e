using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Fleet;
using Provisioning.Testing;

namespace Provisioning.FaultTests;

/// <summary>
/// Runs the fault suite (tests/Provisioning.FaultInjection) in-process: $PROVISIONING_FAULT_ROUNDS rounds (default 3),
/// seed $PROVISIONING_FAULT_SEED (default random, printed first). Fails, listing every violation, when an invariant
/// broke. The run's printed record is the test's output (in the TRX file; on the console when it fails). Missing prerequisites (Linux, Terraform, PostgreSQL's server programs) skip it, except under CI=true.
/// </summary>
public sealed class FaultSuiteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FaultSuite_RoundsUnderFaults_EveryInvariantHolds()
    {
        RequireOrSkip(OperatingSystem.IsLinux(), "The fault suite signals processes and reads /proc: Linux only.");
        TerraformRequirement.Require();
        RequireOrSkip(PostgresCluster.Available, "The PostgreSQL server programs (initdb, pg_ctl) are not installed: apt-get install postgresql.");
        var options = FaultRunOptions.Parse([], Environment.GetEnvironmentVariable);

        // The runner's own deadline (options.Deadline) bounds the run; the test's token ends it earlier when the run is aborted.
        var report = await FaultRun.RunAsync(options, new RunLog(output.WriteLine), TestContext.Current.CancellationToken);

        Assert.True(
            report.Violations.Count == 0,
            $"{report.Summary}\nReplay with PROVISIONING_FAULT_SEED={report.Seed} PROVISIONING_FAULT_ROUNDS={options.Rounds}. Violations:\n"
            + string.Join('\n', report.Violations.Select(violation => "  " + violation)));
    }

    private static void RequireOrSkip(bool condition, string reason)
    {
        if (condition)
        {
            return;
        }

        if (SharedFolder.IsCi)
        {
            Assert.Fail(reason + " Under CI=true this is a failure.");
        }

        Assert.Skip(reason);
    }
}
