namespace Provisioning.Sdk.Archives;

/// <summary>
/// Limits applied when a template archive is validated or extracted, so that an upload cannot
/// exhaust the disk or the inode table of a daemon or the coordinator.
/// </summary>
public sealed class TemplateArchiveLimits
{
    /// <summary>The limits used when none are given: 256 MiB in total, 10 000 entries, 100 MiB per file.</summary>
    public static TemplateArchiveLimits Default { get; } = new();

    /// <summary>
    /// The most bytes all files together may hold once extracted (hard links count once per link).
    /// Default: 256 MiB (268 435 456 bytes).
    /// </summary>
    public long MaxTotalBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// The most entries (files, directories and links) an archive may hold. Default: 10 000.
    /// </summary>
    public int MaxFileCount { get; init; } = 10_000;

    /// <summary>The most bytes a single file may hold. Default: 100 MiB (104 857 600 bytes).</summary>
    public long MaxFileBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary>
    /// The most bytes the tar stream itself may hold when it must be buffered (a non-seekable source):
    /// the content limit plus room for the headers of <see cref="MaxFileCount"/> entries.
    /// </summary>
    internal long MaxArchiveBytes => MaxTotalBytes + ((long)MaxFileCount + 2) * 4096 + 1024 * 1024;

    /// <summary>Throws when a limit is not positive, naming the property to fix.</summary>
    internal void Validate()
    {
        if (MaxTotalBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTotalBytes), MaxTotalBytes, "TemplateArchiveLimits.MaxTotalBytes must be positive.");
        }

        if (MaxFileCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFileCount), MaxFileCount, "TemplateArchiveLimits.MaxFileCount must be positive.");
        }

        if (MaxFileBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFileBytes), MaxFileBytes, "TemplateArchiveLimits.MaxFileBytes must be positive.");
        }
    }
}
