using Provisioning.Coordinator.Jobs;

namespace Provisioning.Bench;

/// <summary>The job every run enqueues: an untagged terraform dry run with an empty input, which the test daemons complete at once.</summary>
internal static class NoOpJobs
{
    private static readonly Dictionary<string, string> NoTags = new(StringComparer.Ordinal);

    public static NewProvisionerJob Create() => new(ProvisionerJobType.TemplateVersionDryRun, "terraform", NoTags);
}
