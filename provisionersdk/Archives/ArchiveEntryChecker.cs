using System.Formats.Tar;

namespace Provisioning.Sdk.Archives;

/// <summary>What an archive entry becomes once checked.</summary>
internal enum CheckedEntryKind
{
    Directory,
    File,
    HardLink,
    SymbolicLink,
}

/// <summary>An entry that passed the checks: its normalised path and, for links, the target.</summary>
internal sealed record CheckedEntry(string Path, CheckedEntryKind Kind, string? LinkTarget);

/// <summary>
/// Applies the archive rules to a sequence of tar entries: safe paths, allowed types, limits, links
/// that stay inside the root. Both the validation pass and the extraction pass run every entry
/// through it, so extraction never trusts what validation saw of a stream.
/// </summary>
internal sealed class ArchiveEntryChecker(TemplateArchiveLimits limits)
{
    private readonly Dictionary<string, CheckedEntryKind> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _symlinks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _fileSizes = new(StringComparer.Ordinal);
    private int _entryCount;
    private int _fileCount;
    private long _totalBytes;

    public TemplateArchiveSummary Summary => new(_entryCount, _fileCount, _totalBytes);

    /// <summary>Checks one entry; returns null for entries that carry no file (global pax headers, the root).</summary>
    public CheckedEntry? Check(TarEntry entry)
    {
        var name = entry.Name;
        var kind = entry.EntryType switch
        {
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => CheckedEntryKind.File,
            TarEntryType.Directory => CheckedEntryKind.Directory,
            TarEntryType.SymbolicLink => CheckedEntryKind.SymbolicLink,
            TarEntryType.HardLink => CheckedEntryKind.HardLink,
            TarEntryType.GlobalExtendedAttributes => (CheckedEntryKind?)null,
            TarEntryType.CharacterDevice or TarEntryType.BlockDevice => throw Refuse(name,
                $"it is a {(entry.EntryType == TarEntryType.CharacterDevice ? "character" : "block")} device, and templates may only hold files, directories and links. Remove the device from the template directory"),
            TarEntryType.Fifo => throw Refuse(name,
                "it is a FIFO (named pipe), and templates may only hold files, directories and links. Remove the FIFO from the template directory"),
            _ => throw Refuse(name,
                $"its entry type '{entry.EntryType}' is not supported; templates may only hold regular files, directories, symbolic links and hard links. Recreate the archive with a plain tar (ustar or pax) of the template directory"),
        };
        if (kind is null)
        {
            return null;
        }

        var path = ArchivePath.Normalize(name, "entry");
        if (path.Length == 0)
        {
            if (kind == CheckedEntryKind.Directory)
            {
                return null;
            }

            throw Refuse(name, "it names the archive root itself, which can only be a directory");
        }

        if (++_entryCount > limits.MaxFileCount)
        {
            throw Refuse(name, $"the archive holds more than {limits.MaxFileCount} entries (TemplateArchiveLimits.MaxFileCount). Remove files from the template (e.g. list generated files in .provisioningignore) or raise the limit");
        }

        foreach (var ancestor in ArchivePath.Ancestors(path))
        {
            if (_entries.TryGetValue(ancestor, out var ancestorKind))
            {
                if (ancestorKind == CheckedEntryKind.SymbolicLink)
                {
                    throw Refuse(name, $"its parent '{ancestor}' is a symbolic link in the archive, and writing through a link could reach outside the extraction directory. Store the files under the real directory instead");
                }

                if (ancestorKind != CheckedEntryKind.Directory)
                {
                    throw Refuse(name, $"its parent '{ancestor}' is a file in the archive. Recreate the archive from the template directory");
                }
            }
        }

        if (_entries.TryGetValue(path, out var existing) && !(existing == CheckedEntryKind.Directory && kind == CheckedEntryKind.Directory))
        {
            throw Refuse(name, $"the archive already holds an entry at '{path}', and a duplicate would silently replace it. Recreate the archive so every path appears once");
        }

        string? linkTarget = null;
        switch (kind)
        {
            case CheckedEntryKind.File:
                CountFile(name, entry.Length);
                _fileSizes[path] = entry.Length;
                break;
            case CheckedEntryKind.HardLink:
                linkTarget = CheckHardLink(name, entry.LinkName);
                CountFile(name, _fileSizes[linkTarget]);
                _fileSizes[path] = _fileSizes[linkTarget];
                break;
            case CheckedEntryKind.SymbolicLink:
                linkTarget = CheckSymbolicLink(name, path, entry.LinkName);
                _fileCount++;
                _symlinks[path] = linkTarget;
                break;
        }

        foreach (var ancestor in ArchivePath.Ancestors(path))
        {
            _entries.TryAdd(ancestor, CheckedEntryKind.Directory);
        }

        // A hard link extracts as a file with the same content, so later checks treat it as one.
        _entries[path] = kind == CheckedEntryKind.HardLink ? CheckedEntryKind.File : kind.Value;
        return new CheckedEntry(path, kind.Value, linkTarget);
    }

    /// <summary>
    /// Checks every symbolic link against the whole archive's links; call after the last entry,
    /// because a later link can change where an earlier one leads.
    /// </summary>
    public void CheckAllLinks()
    {
        foreach (var (path, target) in _symlinks)
        {
            if (SymlinkResolver.FindEscape(_symlinks, path, target) is { } reason)
            {
                throw Refuse(path, $"the symbolic link points to '{target}', which {reason}, so it leads outside the archive root. Replace the link with a copy of its target, or point it at a file inside the template");
            }
        }
    }

    private void CountFile(string name, long length)
    {
        if (length > limits.MaxFileBytes)
        {
            throw Refuse(name, $"the file holds {length} bytes, more than the {limits.MaxFileBytes} bytes a single file may hold (TemplateArchiveLimits.MaxFileBytes). Keep large artifacts out of the template (list them in .provisioningignore) or raise the limit");
        }

        _totalBytes += length;
        _fileCount++;
        if (_totalBytes > limits.MaxTotalBytes)
        {
            throw Refuse(name, $"with this file the archive holds {_totalBytes} bytes, more than the {limits.MaxTotalBytes} bytes allowed in total (TemplateArchiveLimits.MaxTotalBytes). Remove large files from the template (list them in .provisioningignore) or raise the limit");
        }
    }

    private string CheckHardLink(string name, string linkName)
    {
        if (string.IsNullOrEmpty(linkName))
        {
            throw Refuse(name, "the hard link has no target");
        }

        string target;
        try
        {
            target = ArchivePath.Normalize(linkName, "hard link target");
        }
        catch (TemplateArchiveException ex)
        {
            throw new TemplateArchiveException(name, $"Template archive entry '{name}' is refused: the hard link points to '{linkName}', outside the archive root (hard link targets must be relative paths without '..'). Replace the link with a copy of the file.", ex);
        }

        if (!_entries.TryGetValue(target, out var targetKind) || targetKind != CheckedEntryKind.File)
        {
            throw Refuse(name, $"the hard link points to '{linkName}', which is not a regular file earlier in the archive. Replace the link with a copy of the file");
        }

        return target;
    }

    private static string CheckSymbolicLink(string name, string path, string linkName)
    {
        if (string.IsNullOrEmpty(linkName) || linkName.Contains('\0', StringComparison.Ordinal))
        {
            throw Refuse(name, "the symbolic link has an empty or invalid target");
        }

        if (ArchivePath.IsAbsolute(linkName))
        {
            throw Refuse(name, $"the symbolic link points to the absolute path '{linkName}', outside the archive root. Replace the link with a copy of its target, or make it relative to a file inside the template");
        }

        // Catches plain '../' escapes early with a precise message; chains through other links are checked at the end.
        if (SymlinkResolver.FindEscape(new Dictionary<string, string>(), path, linkName) is { } reason)
        {
            throw Refuse(name, $"the symbolic link points to '{linkName}', which {reason}, so it leads outside the archive root. Replace the link with a copy of its target, or point it at a file inside the template");
        }

        return linkName;
    }

    private static TemplateArchiveException Refuse(string name, string rule) =>
        new(name, $"Template archive entry '{name}' is refused: {rule}.");
}
