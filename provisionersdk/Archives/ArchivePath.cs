namespace Provisioning.Sdk.Archives;

/// <summary>Archive paths: relative, '/'-separated, no '.' or '..' segments.</summary>
internal static class ArchivePath
{
    /// <summary>Segments of a link target that may contain '..'; null when the target is absolute.</summary>
    public static string[]? SplitRelative(string path)
    {
        if (IsAbsolute(path))
        {
            return null;
        }

        return path.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    public static bool IsAbsolute(string path) =>
        path.StartsWith('/') || path.StartsWith('\\') || (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]));

    /// <summary>
    /// Normalises an entry name or hard-link target to "a/b/c"; returns "" for the root itself.
    /// Throws <see cref="TemplateArchiveException"/> for absolute paths, '..' segments and characters
    /// that mean different things on different systems.
    /// </summary>
    public static string Normalize(string name, string what)
    {
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new TemplateArchiveException(name, $"Template archive {what} '{name}' is refused: it contains a NUL character. Recreate the archive from the template directory.");
        }

        if (IsAbsolute(name))
        {
            throw new TemplateArchiveException(name, $"Template archive {what} '{name}' is refused: it is an absolute path, and archive paths must be relative to the template root. Recreate the archive from the template directory (e.g. with TemplateArchiveWriter) so that paths are relative.");
        }

        if (name.Contains('\\', StringComparison.Ordinal))
        {
            throw new TemplateArchiveException(name, $"Template archive {what} '{name}' is refused: it contains a backslash, which Windows reads as a path separator. Rename the file or use '/' as the separator.");
        }

        var segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var kept = new List<string>(segments.Length);
        foreach (var segment in segments)
        {
            if (segment == "..")
            {
                throw new TemplateArchiveException(name, $"Template archive {what} '{name}' is refused: it contains a '..' segment, which could reach outside the extraction directory. Recreate the archive from the template directory with relative paths only.");
            }

            if (segment != ".")
            {
                kept.Add(segment);
            }
        }

        return string.Join('/', kept);
    }

    /// <summary>The parent of an archive path ("" for top-level entries).</summary>
    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? string.Empty : path[..slash];
    }

    /// <summary>All ancestors of a path, nearest the root first, excluding the root itself.</summary>
    public static IEnumerable<string> Ancestors(string path)
    {
        for (var i = path.IndexOf('/', StringComparison.Ordinal); i >= 0; i = path.IndexOf('/', i + 1))
        {
            yield return path[..i];
        }
    }

    /// <summary>Maps a normalised archive path into <paramref name="root"/>, checking the result stays inside it.</summary>
    public static string ToFullPath(string root, string archivePath)
    {
        var full = Path.GetFullPath(Path.Combine(root, archivePath.Replace('/', Path.DirectorySeparatorChar)));
        var rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal) && full != root)
        {
            // Normalize() already refuses what could get here; this guards against a future change there.
            throw new TemplateArchiveException(archivePath, $"Template archive entry '{archivePath}' is refused: it resolves to '{full}', outside the extraction directory '{root}'.");
        }

        return full;
    }
}
