using System.Formats.Tar;
using System.Text;
using MAB.DotIgnore;

namespace Provisioning.Sdk.Archives;

/// <summary>
/// Packs a template directory into a tar, deterministically: the same directory content always gives
/// the same bytes and SHA-256, whatever the timestamps, owners or enumeration order on disk, so an
/// archive's hash identifies its content.
/// </summary>
/// <remarks>
/// Entries are written in ordinal order of their '/'-separated paths, directories included, with a
/// fixed modification time, uid/gid 0, empty user and group names, and mode 0755 (directories and
/// files with any execute bit) or 0644. Skipped: <c>.terraform</c> and <c>.git</c> at any depth,
/// files whose name contains <c>.tfstate</c>, and what the root's <c>.provisioningignore</c> lists
/// (gitignore syntax, negations included; as in git, a file inside an ignored directory cannot be
/// re-included). Symbolic links are stored as links when they resolve inside the directory, and
/// packing fails otherwise, as it does for FIFOs, sockets and devices. Entries are ustar, or pax when a path does not fit ustar's 100 bytes.
/// </remarks>
/// <param name="progress">Receives a report after each entry; null for none.</param>
public sealed class TemplateArchiveWriter(IProgress<TemplateArchiveProgress>? progress = null)
{
    /// <summary>The name of the ignore file read from the template's root.</summary>
    public const string IgnoreFileName = ".provisioningignore";

    /// <summary>The modification time of every entry: 2000-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset EntryTimestamp = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const int UstarNameLimit = 100;

    private enum SourceKind
    {
        Directory,
        File,
        SymbolicLink,
    }

    private sealed record SourceEntry(string ArchivePath, string FullPath, SourceKind Kind, bool Executable, string? LinkTarget, long Length = 0);

    /// <summary>Packs <paramref name="directory"/> into <paramref name="destination"/>.</summary>
    /// <param name="directory">The template directory.</param>
    /// <param name="destination">Receives the tar; left open.</param>
    /// <param name="cancellationToken">Stops packing.</param>
    /// <returns>The archive's SHA-256, size and file count.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="TemplateArchiveException">A symbolic link leads outside the directory.</exception>
    public async Task<TemplateArchive> PackAsync(string directory, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(destination);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Cannot pack template directory '{root}': it does not exist. Pass the path of a directory holding the template's .tf files.");
        }

        var entries = Collect(root, cancellationToken);
        CheckSymbolicLinks(root, entries);

        var hashing = new HashingWriteStream(destination);
        await using (hashing.ConfigureAwait(false))
        {
            var writer = new TarWriter(hashing, TarEntryFormat.Pax, leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                var written = 0;
                foreach (var source in entries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await WriteEntryAsync(writer, source, cancellationToken).ConfigureAwait(false);
                    progress?.Report(new TemplateArchiveProgress(++written, entries.Count, hashing.BytesWritten, TarName(source)));
                }
            }

            await hashing.FlushAsync(cancellationToken).ConfigureAwait(false);
            var files = entries.Count(e => e.Kind != SourceKind.Directory);
            return new TemplateArchive(hashing.GetHashHex(), hashing.BytesWritten, files);
        }
    }

    /// <summary>Packs <paramref name="directory"/> into memory; convenient for small templates and tests.</summary>
    /// <param name="directory">The template directory.</param>
    /// <param name="cancellationToken">Stops packing.</param>
    /// <returns>The tar bytes and their description (SHA-256, size, file count).</returns>
    public async Task<(byte[] Bytes, TemplateArchive Archive)> PackToBytesAsync(string directory, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        var archive = await PackAsync(directory, buffer, cancellationToken).ConfigureAwait(false);
        return (buffer.ToArray(), archive);
    }

    private static List<SourceEntry> Collect(string root, CancellationToken cancellationToken)
    {
        var ignoreFile = Path.Combine(root, IgnoreFileName);
        var ignore = File.Exists(ignoreFile)
            ? new IgnoreList(File.ReadAllLines(ignoreFile), MatchFlags.PATHNAME)
            : null;

        // Hidden files are template files too: the default options would skip dot-files on Unix.
        var options = new EnumerationOptions
        {
            AttributesToSkip = FileAttributes.None,
            IgnoreInaccessible = false,
            RecurseSubdirectories = false,
            ReturnSpecialDirectories = false,
        };

        var entries = new List<SourceEntry>();
        var pending = new Stack<(string FullPath, string ArchivePath)>();
        pending.Push((root, string.Empty));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (directoryPath, directoryArchivePath) = pending.Pop();
            foreach (var info in new DirectoryInfo(directoryPath).EnumerateFileSystemInfos("*", options))
            {
                var archivePath = directoryArchivePath.Length == 0 ? info.Name : directoryArchivePath + "/" + info.Name;
                var isLink = info.LinkTarget is not null;
                var isDirectory = !isLink && (info.Attributes & FileAttributes.Directory) != 0;
                if (IsAlwaysSkipped(info.Name, isDirectory) || (ignore is not null && ignore.IsIgnored(archivePath, isDirectory)))
                {
                    continue;
                }

                if (isLink)
                {
                    entries.Add(new SourceEntry(archivePath, info.FullName, SourceKind.SymbolicLink, false, info.LinkTarget));
                }
                else if (isDirectory)
                {
                    entries.Add(new SourceEntry(archivePath, info.FullName, SourceKind.Directory, true, null));
                    pending.Push((info.FullName, archivePath));
                }
                else
                {
                    var length = ((FileInfo)info).Length;
                    if (length == 0)
                    {
                        RefuseSpecialFile(root, archivePath, info.FullName);
                    }

                    var executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(info.FullName) & ArchiveModes.AnyExecute) != 0;
                    entries.Add(new SourceEntry(archivePath, info.FullName, SourceKind.File, executable, null, length));
                }
            }
        }

        // Sorted by the names as they appear in the tar (directories end in '/'), as `tar tf` lists them.
        entries.Sort((a, b) => string.CompareOrdinal(TarName(a), TarName(b)));
        return entries;
    }

    private static string TarName(SourceEntry entry) =>
        entry.Kind == SourceKind.Directory ? entry.ArchivePath + "/" : entry.ArchivePath;

    /// <summary>
    /// FIFOs, sockets and devices look like empty files to <see cref="FileSystemInfo"/>; TarWriter's own
    /// file probe (lstat) tells them apart, so an empty file is run through it into a scratch buffer.
    /// </summary>
    private static void RefuseSpecialFile(string root, string archivePath, string fullPath)
    {
        TarEntryType type;
        try
        {
            using var scratch = new MemoryStream();
            using (var probe = new TarWriter(scratch, TarEntryFormat.Pax, leaveOpen: true))
            {
                probe.WriteEntry(fullPath, "probe");
            }

            scratch.Position = 0;
            using var reader = new TarReader(scratch);
            type = reader.GetNextEntry()?.EntryType ?? TarEntryType.RegularFile;
        }
        catch (IOException ex)
        {
            // TarWriter refuses sockets (and anything else it cannot represent) with an IOException.
            throw new TemplateArchiveException(archivePath, $"Cannot pack '{root}': '{archivePath}' is not a regular file, directory or link ({ex.Message}). Remove it from the template directory or list it in {IgnoreFileName}.", ex);
        }

        if (type is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
        {
            throw new TemplateArchiveException(archivePath, $"Cannot pack '{root}': '{archivePath}' is a special file ({type}), and templates may only hold files, directories and links. Remove it from the template directory or list it in {IgnoreFileName}.");
        }

        try
        {
            // The probe reports sockets as regular files; opening one fails (ENXIO), opening a real empty file does not.
            File.OpenHandle(fullPath).Dispose();
        }
        catch (IOException ex)
        {
            throw new TemplateArchiveException(archivePath, $"Cannot pack '{root}': '{archivePath}' cannot be read as a file ({ex.Message}); it may be a socket. Remove it from the template directory or list it in {IgnoreFileName}.", ex);
        }
    }

    private static bool IsAlwaysSkipped(string name, bool isDirectory) =>
        name is ".terraform" or ".git" || (!isDirectory && name.Contains(".tfstate", StringComparison.Ordinal));

    /// <summary>
    /// Rewrites absolute targets inside the root as relative ones, then checks every link with the
    /// extractor's resolver, so that an archive this writer makes is one the extractor accepts.
    /// </summary>
    private static void CheckSymbolicLinks(string root, List<SourceEntry> entries)
    {
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Kind != SourceKind.SymbolicLink)
            {
                continue;
            }

            var target = entry.LinkTarget!;
            if (Path.IsPathRooted(target))
            {
                var full = Path.GetFullPath(target);
                if (full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || full == root)
                {
                    target = Path.GetRelativePath(Path.GetDirectoryName(entry.FullPath)!, full);
                }
            }

            target = target.Replace(Path.DirectorySeparatorChar, '/');
            entries[i] = entry with { LinkTarget = target };
            links[entry.ArchivePath] = target;
        }

        foreach (var (path, target) in links)
        {
            if (SymlinkResolver.FindEscape(links, path, target) is { } reason)
            {
                throw new TemplateArchiveException(path, $"Cannot pack '{root}': the symbolic link '{path}' points to '{target}', which {reason}, so it leads outside the template directory. Replace the link with a copy of its target, or list it in {IgnoreFileName}.");
            }
        }
    }

    private static async Task WriteEntryAsync(TarWriter writer, SourceEntry source, CancellationToken cancellationToken)
    {
        var name = TarName(source);
        var type = source.Kind switch
        {
            SourceKind.Directory => TarEntryType.Directory,
            SourceKind.SymbolicLink => TarEntryType.SymbolicLink,
            _ => TarEntryType.RegularFile,
        };

        // ustar keeps the archive small (no extended header per entry); pax carries long or non-ASCII names.
        var fitsUstar = FitsUstar(name) && (source.LinkTarget is null || FitsUstar(source.LinkTarget));
        TarEntry entry = fitsUstar ? new UstarTarEntry(type, name) : new PaxTarEntry(type, name);
        entry.ModificationTime = EntryTimestamp;
        entry.Uid = 0;
        entry.Gid = 0;
        entry.Mode = source.Executable ? ArchiveModes.Executable : ArchiveModes.Regular;
        var posix = (PosixTarEntry)entry;
        posix.UserName = string.Empty;
        posix.GroupName = string.Empty;
        if (source.LinkTarget is not null)
        {
            entry.LinkName = source.LinkTarget;
        }

        // Empty files are not opened: nothing to read, and a FIFO swapped in since Collect would block.
        if (source.Kind != SourceKind.File || source.Length == 0)
        {
            await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
            return;
        }

        var file = new FileStream(source.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            entry.DataStream = file;
            await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool FitsUstar(string value) =>
        value.Length <= UstarNameLimit && Ascii.IsValid(value) && !value.Any(char.IsControl);
}
