using System.Diagnostics;

namespace Provisioning.Sdk.Telemetry;

/// <summary>
/// The activity sources of the product, one per component, so a trace of one build reads REST request (ASP.NET Core) →
/// the wait in the queue (coordinator) → the daemon's job → each Terraform command. A host that exports traces
/// (OpenTelemetry, OTLP) subscribes to <see cref="SourceNames"/>; without a listener none of them allocates anything.
/// </summary>
public static class ProvisioningTelemetry
{
    /// <summary>The coordinator's source: a job's wait in the queue.</summary>
    public const string CoordinatorSourceName = "Provisioning.Coordinator";

    /// <summary>The daemon's source: a job from acquisition to its acknowledged report.</summary>
    public const string DaemonSourceName = "Provisioning.Daemon";

    /// <summary>The Terraform provisioner's source: each Terraform command.</summary>
    public const string TerraformSourceName = "Provisioning.Terraform";

    /// <summary>Spans of <see cref="CoordinatorSourceName"/>.</summary>
    public static ActivitySource Coordinator { get; } = new(CoordinatorSourceName);

    /// <summary>Spans of <see cref="DaemonSourceName"/>.</summary>
    public static ActivitySource Daemon { get; } = new(DaemonSourceName);

    /// <summary>Spans of <see cref="TerraformSourceName"/>.</summary>
    public static ActivitySource Terraform { get; } = new(TerraformSourceName);

    /// <summary>Every source above, for a host that exports traces.</summary>
    public static IReadOnlyList<string> SourceNames { get; } = [CoordinatorSourceName, DaemonSourceName, TerraformSourceName];

    /// <summary>The parent a W3C traceparent names, or default when it is empty or malformed (the span then starts a trace of its own).</summary>
    public static ActivityContext ParentOf(string? traceParent) =>
        !string.IsNullOrWhiteSpace(traceParent) && ActivityContext.TryParse(traceParent, traceState: null, out var parent) ? parent : default;
}
