using System.Formats.Tar;

namespace Provisioning.Sdk.Archives;

/// <summary>
/// Extracts a template archive into a directory, safely: nothing is ever written outside the target.
/// </summary>
/// <remarks>
/// Design: validate, then extract. The whole archive is checked first (<see cref="TemplateArchiveValidator"/>),
/// so a refused archive writes nothing at all, not even inside the target; only then is it read
/// again and written out. A source that cannot seek is first buffered to a temporary file (bounded by
/// the limits) so it can be read twice. The extraction pass re-applies every check, so even a stream
/// that changed between the passes cannot write outside the target. Symbolic links are created last,
/// and no entry may be written through a link, so no write ever follows a link the archive made.
/// Hard links are materialised as copies of their target file. File modes are normalised to 0755
/// (directories and executables) or 0644; owners and timestamps are not restored.
/// </remarks>
public static class TemplateArchiveExtractor
{
    private const int CopyBufferSize = 81920;

    /// <summary>Validates <paramref name="archive"/> and extracts it into <paramref name="targetDirectory"/>.</summary>
    /// <param name="archive">The tar stream.</param>
    /// <param name="targetDirectory">Where to extract; created when missing, and must be empty when it exists.</param>
    /// <param name="limits">The limits to enforce; <see cref="TemplateArchiveLimits.Default"/> when null.</param>
    /// <param name="cancellationToken">Stops the extraction (files written so far stay).</param>
    /// <returns>The number of entries and files and the total size written.</returns>
    /// <exception cref="TemplateArchiveException">The archive breaks a rule (nothing was written) or the target is not empty.</exception>
    public static async Task<TemplateArchiveSummary> ExtractAsync(Stream archive, string targetDirectory, TemplateArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentException.ThrowIfNullOrEmpty(targetDirectory);
        limits ??= TemplateArchiveLimits.Default;
        limits.Validate();
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetDirectory));
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            // A pre-existing link in the target could redirect a write outside it; a fresh directory cannot.
            throw new TemplateArchiveException($"Cannot extract the template archive into '{root}': the directory is not empty. Extract into a new or empty directory.");
        }

        var buffered = archive.CanSeek ? null : await BufferAsync(archive, limits, cancellationToken).ConfigureAwait(false);
        try
        {
            var source = buffered ?? archive;
            var start = source.Position;
            await TemplateArchiveValidator.ValidateAsync(source, limits, cancellationToken).ConfigureAwait(false);
            source.Position = start;
            return await WriteAsync(source, root, limits, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (buffered is not null)
            {
                await buffered.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<TemplateArchiveSummary> WriteAsync(Stream source, string root, TemplateArchiveLimits limits, CancellationToken cancellationToken)
    {
        var checker = new ArchiveEntryChecker(limits);
        var symlinks = new List<CheckedEntry>();
        CreateDirectory(root);
        await foreach (var entry in TemplateArchiveValidator.ReadEntriesAsync(source, cancellationToken).ConfigureAwait(false))
        {
            if (checker.Check(entry) is not { } item)
            {
                continue;
            }

            var fullPath = ArchivePath.ToFullPath(root, item.Path);
            switch (item.Kind)
            {
                case CheckedEntryKind.Directory:
                    CreateDirectory(fullPath);
                    break;
                case CheckedEntryKind.File:
                    CreateParents(root, item.Path);
                    await WriteFileAsync(entry, fullPath, cancellationToken).ConfigureAwait(false);
                    break;
                case CheckedEntryKind.HardLink:
                    CreateParents(root, item.Path);
                    File.Copy(ArchivePath.ToFullPath(root, item.LinkTarget!), fullPath, overwrite: false);
                    break;
                case CheckedEntryKind.SymbolicLink:
                    symlinks.Add(item);
                    break;
            }
        }

        checker.CheckAllLinks();
        foreach (var link in symlinks)
        {
            CreateParents(root, link.Path);
            File.CreateSymbolicLink(ArchivePath.ToFullPath(root, link.Path), link.LinkTarget!);
        }

        return checker.Summary;
    }

    private static async Task WriteFileAsync(TarEntry entry, string fullPath, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = (entry.Mode & ArchiveModes.AnyExecute) != 0
                ? ArchiveModes.Executable
                : ArchiveModes.Regular;
        }

        var file = new FileStream(fullPath, options);
        await using (file.ConfigureAwait(false))
        {
            if (entry.DataStream is { } data)
            {
                await data.CopyToAsync(file, CopyBufferSize, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void CreateParents(string root, string archivePath)
    {
        foreach (var ancestor in ArchivePath.Ancestors(archivePath))
        {
            CreateDirectory(ArchivePath.ToFullPath(root, ancestor));
        }
    }

    private static void CreateDirectory(string fullPath)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(fullPath);
        }
        else
        {
            Directory.CreateDirectory(fullPath, ArchiveModes.Executable);
        }
    }

    private static async Task<FileStream> BufferAsync(Stream archive, TemplateArchiveLimits limits, CancellationToken cancellationToken)
    {
        var buffer = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, CopyBufferSize, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            var chunk = new byte[CopyBufferSize];
            int read;
            while ((read = await archive.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limits.MaxArchiveBytes)
                {
                    throw new TemplateArchiveException($"The template archive is larger than {limits.MaxArchiveBytes} bytes, more than its content limits allow (TemplateArchiveLimits.MaxTotalBytes and MaxFileCount). Remove large files from the template or raise the limits.");
                }

                await buffer.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            buffer.Position = 0;
            return buffer;
        }
        catch
        {
            await buffer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
