namespace Provisioning.Coordinator.Jobs;

/// <summary>A Hangfire queue of the jobs of one provisioner type and one canonical tag set.</summary>
public sealed record ProvisionerQueue(string Name, string Provisioner, IReadOnlyDictionary<string, string> Tags);
