using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Fleet;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.FaultTests.Checks;

/// <summary>The checker's verdicts on disk evidence written as the template writes it (pure logic: no fleet).</summary>
public sealed class InvariantCheckerTests
{
    private static readonly Guid KilledJob = Guid.NewGuid();
    private static readonly Guid EarlierJob = Guid.NewGuid();

    [Fact]
    public void CheckRound_LockCollisionFile_IsOneDaemonAtATimeViolation()
    {
        using var fixture = new WorkspaceDiskFixture();
        fixture.LockCollision("build=3 resource=compute action=create at=1.0 job_dir=/x/jobs/fault-d2/j");

        var violations = InvariantChecker.CheckRound(1, new FaultRecord(FaultKind.CoordinatorKill, "test"), fixture.Disk, []);

        var violation = Assert.Single(violations);
        Assert.Equal(Invariants.OneDaemonAtATime, violation.Invariant);
        Assert.Contains("fault-d2", violation.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckRound_JobThatDidNotEnd_IsJobEndedViolation()
    {
        using var fixture = new WorkspaceDiskFixture();
        var stuck = new BuildOutcome("stop", 2, Guid.NewGuid(), new JobView(Guid.NewGuid(), "running", null, null, null, null, null), Ended: false, TimeSpan.FromMinutes(3));

        var violations = InvariantChecker.CheckRound(1, new FaultRecord(FaultKind.DaemonKill, "test"), fixture.Disk, [stuck]);

        Assert.Equal(Invariants.JobEnded, Assert.Single(violations).Invariant);
    }

    [Fact]
    public void CheckRound_RevokedDaemonStartsAnotherJobAfterTheGrace_IsRevokedKeyViolation()
    {
        using var fixture = new WorkspaceDiskFixture();
        var revokedAt = 1000.0;
        fixture.Run("begin", 3, "compute", "create", revokedAt + 1, WorkspaceDiskFixture.JobDirectory("fault-d1", KilledJob));
        fixture.Run("begin", 4, "home", "destroy", revokedAt + 30, WorkspaceDiskFixture.JobDirectory("fault-d1", EarlierJob));
        var fault = new FaultRecord(FaultKind.KeyRevoke, "test") { JobAtInjection = KilledJob, RevokedDaemon = "fault-d1", RevokedAtUnixSeconds = revokedAt };

        var violations = InvariantChecker.CheckRound(1, fault, fixture.Disk, []);

        var violation = Assert.Single(violations);
        Assert.Equal(Invariants.RevokedKeyStopsWork, violation.Invariant);
        Assert.Contains("build 4", violation.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckDelete_MarkersLeft_ViolationExceptTheOneTheKilledDaemonWasCreating()
    {
        using var fixture = new WorkspaceDiskFixture();
        using var api = new CoordinatorApi(new Uri("http://127.0.0.1:9"), "unused");
        fixture.Marker("home", 1, WorkspaceDiskFixture.JobDirectory("fault-d2", EarlierJob));
        fixture.Marker("compute", 3, WorkspaceDiskFixture.JobDirectory("fault-d1", KilledJob));
        var fault = new FaultRecord(FaultKind.DaemonKill, "test") { JobAtInjection = KilledJob, KilledDaemons = ["fault-d1"] };
        var delete = new BuildOutcome("delete", 4, Guid.NewGuid(), new JobView(Guid.NewGuid(), "failed", null, "boom", "x", null, null), Ended: true, TimeSpan.FromSeconds(1));

        var result = await new InvariantChecker(api).CheckDeleteAsync(1, fault, fixture.Disk, delete, new HashSet<string>(), TestContext.Current.CancellationToken);

        Assert.All(result.Violations, violation => Assert.Equal(Invariants.DeleteLeavesNothing, violation.Invariant));
        Assert.Equal(2, result.Violations.Count); // The failed delete, and `home` left behind.
        Assert.Contains(result.Violations, violation => violation.Evidence.Contains("home", StringComparison.Ordinal) && !violation.Evidence.Contains("compute", StringComparison.Ordinal));
        Assert.Contains("compute", Assert.Single(result.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckDelete_MarkerOfAResourceTaintedBeforeTheDelete_IsANoteOthersStayViolations()
    {
        using var fixture = new WorkspaceDiskFixture();
        using var api = new CoordinatorApi(new Uri("http://127.0.0.1:9"), "unused");
        fixture.Marker("home", 1, WorkspaceDiskFixture.JobDirectory("fault-d2", EarlierJob));
        fixture.Marker("compute", 3, WorkspaceDiskFixture.JobDirectory("fault-d1", KilledJob));
        var fault = new FaultRecord(FaultKind.DaemonStop, "test") { JobAtInjection = KilledJob };
        // A failed delete: the checker then asks the coordinator nothing (this test has none).
        var delete = new BuildOutcome("delete", 4, Guid.NewGuid(), new JobView(Guid.NewGuid(), "failed", null, "boom", "x", null, null), Ended: true, TimeSpan.FromSeconds(1));

        var result = await new InvariantChecker(api).CheckDeleteAsync(1, fault, fixture.Disk, delete, new HashSet<string> { "compute" }, TestContext.Current.CancellationToken);

        // `compute` was tainted in the state the delete destroyed: Terraform ran no destroy-time provisioner for it.
        Assert.Equal(2, result.Violations.Count); // The failed delete, and `home` left behind.
        Assert.Contains(result.Violations, violation => violation.Evidence.Contains("home", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Violations, violation => violation.Evidence.Contains("compute", StringComparison.Ordinal));
        Assert.Contains("tainted", Assert.Single(result.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void History_RunsOfTwoJobs_NamesEachJobsDaemonAndACutOffRun()
    {
        using var fixture = new WorkspaceDiskFixture();
        fixture.Run("begin", 1, "home", "create", 10, WorkspaceDiskFixture.JobDirectory("fault-d1", EarlierJob));
        fixture.Run("end", 1, "home", "create", 11, WorkspaceDiskFixture.JobDirectory("fault-d1", EarlierJob));
        fixture.Run("begin", 2, "compute", "destroy", 20, WorkspaceDiskFixture.JobDirectory("fault-d2", KilledJob));

        var history = InvariantChecker.History(fixture.Disk);

        Assert.Equal(2, history.Count);
        Assert.Contains("fault-d1", history[0], StringComparison.Ordinal);
        Assert.EndsWith("on fault-d2, one cut off", history[1], StringComparison.Ordinal);
    }
}
