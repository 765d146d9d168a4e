using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// A provisioner: turns a template plus inputs into infrastructure. The session host
/// (ProvisionerSessionHost) drives it one request at a time and enforces the protocol's
/// ordering rules, so an implementation only handles the three requests.
/// </summary>
/// <remarks>
/// Cancellation: when the daemon sends Cancel, the cancellation token of the request in
/// flight is canceled. An implementation should stop gracefully and still return its Complete message
/// with <c>Error</c> set (and, for Apply, whatever state was written); throwing
/// <see cref="OperationCanceledException"/> is also accepted, and the host turns it into a Complete
/// with a "canceled" error and no state.
/// </remarks>
public interface IProvisioner
{
    /// <summary>Reads the template's variables, readme and workspace tags without running anything.</summary>
    Task<ParseComplete> ParseAsync(ProvisionerSession session, ParseRequest request, CancellationToken cancellationToken = default);

    /// <summary>Plans the transition in <see cref="PlanRequest.Metadata"/>; keeps the plan in <paramref name="session"/>.</summary>
    Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken cancellationToken = default);

    /// <summary>Applies the plan made earlier in the same session.</summary>
    Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken cancellationToken = default);
}
