using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// A job's input (provisioner_jobs.input) is the protobuf JSON of the AcquiredJob a daemon receives, less
/// what the ledger row already holds (id, type, provisioner, tags, creation time). Whoever creates a job
/// (REST API, tests) builds the AcquiredJob; the daemon service completes it from the row.
/// </summary>
public static class ProvisionerJobInputs
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>The input text of a job that hands <paramref name="payload"/> to its daemon.</summary>
    public static string ToInput(AcquiredJob payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Formatter.Format(payload);
    }

    /// <summary>The message to send the daemon that acquired <paramref name="job"/>.</summary>
    public static AcquiredJob ToAcquiredJob(ProvisionerJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var acquired = string.IsNullOrWhiteSpace(job.Input) || job.Input.Trim() == "{}"
            ? new AcquiredJob()
            : Parser.Parse<AcquiredJob>(job.Input);
        acquired.JobId = job.Id.ToString();
        acquired.CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt);
        acquired.Provisioner = job.Provisioner;
        acquired.JobType = job.Type switch
        {
            ProvisionerJobType.TemplateVersionImport => JobType.TemplateVersionImport,
            ProvisionerJobType.WorkspaceBuild => JobType.WorkspaceBuild,
            ProvisionerJobType.TemplateVersionDryRun => JobType.TemplateVersionDryRun,
            _ => JobType.Unspecified,
        };
        acquired.Tags.Clear();
        foreach (var (key, value) in job.Tags)
        {
            acquired.Tags[key] = value;
        }
        return acquired;
    }
}
