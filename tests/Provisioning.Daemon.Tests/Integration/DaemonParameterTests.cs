using Google.Protobuf;

using Provisioning.Daemon.Tests.Support;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;

namespace Provisioning.Daemon.Tests.Integration;

/// <summary>What the daemon hands its provisioner from a build job's parameters (issue 10 item 2).</summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonParameterTests(TerraformCacheFixture terraform)
{
    [Fact(Timeout = 60_000)]
    public async Task Build_PreviousParameterValues_ReachThePlanRequest()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await TestCoordinator.StartAsync();
        var recording = new RecordingProvisioner();
        var archive = new Blob { Inline = ByteString.CopyFrom(await Templates.PackAsync("# nothing", cancellationToken)) };
        await using var daemon = DaemonHarness.Start(coordinator.Address, terraform.Directory, provisioner: new InProcessDaemonProvisioner("recording", recording));
        var acquired = Templates.Build(archive, WorkspaceTransition.Start, 2);
        acquired.Provisioner = "recording";
        acquired.WorkspaceBuild.RichParameterValues.Add(new RichParameterValue { Name = "cpus", Value = "6" });
        acquired.WorkspaceBuild.PreviousParameterValues.Add(new RichParameterValue { Name = "cpus", Value = "4" });

        var job = coordinator.Enqueue(acquired);
        (await job.WaitAsync(cancellationToken)).RequireCompleted(job.LogText);

        var plan = Assert.Single(recording.Plans);
        Assert.Equal("6", Assert.Single(plan.RichParameterValues).Value);
        Assert.Equal("4", Assert.Single(plan.PreviousParameterValues).Value);
    }

    /// <summary>Plans and applies nothing, keeping each PlanRequest it got.</summary>
    private sealed class RecordingProvisioner : IProvisioner
    {
        public List<PlanRequest> Plans { get; } = [];

        public Task<ParseComplete> ParseAsync(ProvisionerSession session, ParseRequest request, CancellationToken cancellationToken = default) => Task.FromResult(new ParseComplete());

        public Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken cancellationToken = default)
        {
            lock (Plans)
            {
                Plans.Add(request.Clone());
            }

            return Task.FromResult(new PlanComplete());
        }

        public Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken cancellationToken = default) => Task.FromResult(new ApplyComplete());
    }
}
