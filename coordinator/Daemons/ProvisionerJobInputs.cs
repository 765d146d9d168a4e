using System.Diagnostics;

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

    /// <summary>
    /// The input text of a job that hands <paramref name="payload"/> to its daemon. The trace of the request that queues the job
    /// (when traces are recorded) goes with it, so the daemon's work appears in the same trace.
    /// </summary>
    public static string ToInput(AcquiredJob payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (string.IsNullOrEmpty(payload.TraceParent) && Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } current)
        {
            payload = payload.Clone();
            payload.TraceParent = current.Id!;
        }

        return Formatter.Format(payload);
    }

    /// <summary>The AcquiredJob an input text holds (empty for the empty input of a job born ended).</summary>
    public static AcquiredJob FromInput(string? input) =>
        string.IsNullOrWhiteSpace(input) || input.Trim() == "{}" ? new AcquiredJob() : Parser.Parse<AcquiredJob>(input);

    /// <summary>The message to send the daemon that acquired <paramref name="job"/>.</summary>
    public static AcquiredJob ToAcquiredJob(ProvisionerJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var acquired = FromInput(job.Input);
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

    /// <summary>
    /// The exact set of stored files a job's daemon may download: the job's template archive and the previous
    /// state its input names (docs/architecture.md, trust boundaries: a daemon reads only its own job's files).
    /// </summary>
    public static IReadOnlySet<string> ReferencedFiles(ProvisionerJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var acquired = ToAcquiredJob(job);
        var files = new HashSet<string>(StringComparer.Ordinal);
        if (job.FileHash is { Length: > 0 } archive)
        {
            files.Add(archive.ToLowerInvariant());
        }

        AddFile(files, acquired.TemplateSourceArchive);
        if (acquired.TypeCase == AcquiredJob.TypeOneofCase.WorkspaceBuild)
        {
            AddFile(files, acquired.WorkspaceBuild.State);
        }

        return files;
    }

    private static void AddFile(HashSet<string> files, Blob? blob)
    {
        if (blob?.ContentCase == Blob.ContentOneofCase.File && blob.File.Id.Length > 0)
        {
            files.Add(blob.File.Id.ToLowerInvariant());
        }
    }
}
