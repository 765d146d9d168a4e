namespace Provisioning.Sdk.Archives;

/// <summary>
/// Resolves symbolic links against the archive's own tree, the way the kernel would once extracted:
/// each path component that is itself a link in the archive is replaced by its target, so that a
/// chain like <c>p -> .</c> and <c>q -> p/..</c> is seen to leave the root even though each text
/// looks harmless on its own.
/// </summary>
internal static class SymlinkResolver
{
    // The kernel's limit for nested symbolic links (MAXSYMLINKS on Linux).
    private const int MaxExpansions = 40;

    /// <summary>Returns null when the link stays inside the root, otherwise why it does not (a phrase completing "the target ...").</summary>
    public static string? FindEscape(IReadOnlyDictionary<string, string> links, string linkPath, string target)
    {
        var stack = new List<string>(ArchivePath.Parent(linkPath).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var pending = new LinkedList<string>();
        var segments = ArchivePath.SplitRelative(target);
        if (segments is null)
        {
            return "is an absolute path";
        }

        foreach (var segment in segments)
        {
            pending.AddLast(segment);
        }

        var expansions = 0;
        while (pending.First is { } node)
        {
            var component = node.Value;
            pending.RemoveFirst();
            if (component == ".")
            {
                continue;
            }

            if (component == "..")
            {
                if (stack.Count == 0)
                {
                    return "climbs above the root";
                }

                stack.RemoveAt(stack.Count - 1);
                continue;
            }

            var candidate = stack.Count == 0 ? component : string.Join('/', stack) + "/" + component;
            if (links.TryGetValue(candidate, out var nested))
            {
                if (++expansions > MaxExpansions)
                {
                    return $"follows more than {MaxExpansions} links (a loop?)";
                }

                var nestedSegments = ArchivePath.SplitRelative(nested);
                if (nestedSegments is null)
                {
                    return $"passes through the link '{candidate}', whose target is an absolute path";
                }

                // A nested link resolves relative to its own directory, which is the current stack.
                for (var i = nestedSegments.Length - 1; i >= 0; i--)
                {
                    pending.AddFirst(nestedSegments[i]);
                }

                continue;
            }

            stack.Add(component);
        }

        return null;
    }
}
