using System.Formats.Tar;

namespace Provisioning.Sdk.Archives;

/// <summary>
/// Checks a template archive without writing anything: the coordinator runs it on uploads, and
/// <see cref="TemplateArchiveExtractor"/> runs the same checks before it writes the first file.
/// </summary>
public static class TemplateArchiveValidator
{
    /// <summary>
    /// Reads the whole tar and applies the archive rules: relative paths without '..', only files,
    /// directories and links, links that stay inside the root, and <paramref name="limits"/>.
    /// </summary>
    /// <param name="archive">The tar stream, read to its end (it need not be seekable).</param>
    /// <param name="limits">The limits to enforce; <see cref="TemplateArchiveLimits.Default"/> when null.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The number of entries and files and the total size of the content.</returns>
    /// <exception cref="TemplateArchiveException">The archive breaks a rule or is not a readable tar.</exception>
    public static async Task<TemplateArchiveSummary> ValidateAsync(Stream archive, TemplateArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        limits ??= TemplateArchiveLimits.Default;
        limits.Validate();
        var checker = new ArchiveEntryChecker(limits);
        await foreach (var entry in ReadEntriesAsync(archive, cancellationToken).ConfigureAwait(false))
        {
            checker.Check(entry);
        }

        checker.CheckAllLinks();
        return checker.Summary;
    }

    /// <summary>Reads tar entries, turning format errors into <see cref="TemplateArchiveException"/>.</summary>
    internal static async IAsyncEnumerable<TarEntry> ReadEntriesAsync(Stream archive, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = new TarReader(archive, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            while (true)
            {
                TarEntry? entry;
                try
                {
                    entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
                {
                    throw new TemplateArchiveException($"The template archive is not a readable tar ({ex.Message}). Upload an uncompressed ustar or pax tar of the template directory.", ex);
                }

                if (entry is null)
                {
                    yield break;
                }

                yield return entry;
            }
        }
    }
}
