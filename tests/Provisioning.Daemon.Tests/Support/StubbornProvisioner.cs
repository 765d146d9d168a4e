using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;

namespace Provisioning.Daemon.Tests.Support;

/// <summary>
/// A provisioner that plans nothing and whose Apply ignores Cancel (like a hung Terraform), for the
/// daemon's force-cancel path, which real Terraform cannot be made to reach on demand.
/// </summary>
internal sealed class StubbornProvisioner : IProvisioner
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the stuck Apply return (the test's cleanup).</summary>
    public void Release() => _release.TrySetResult();

    public Task<ParseComplete> ParseAsync(ProvisionerSession session, ParseRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ParseComplete());

    public Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new PlanComplete());

    public async Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken cancellationToken = default)
    {
        await session.LogAsync(LogLevel.Info, "stuck: ignoring cancellation", CancellationToken.None);
        await _release.Task.WaitAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        return new ApplyComplete { Error = "released" };
    }
}
