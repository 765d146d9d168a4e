using System.Formats.Tar;

namespace Provisioning.Sdk.Tests.Archives;

/// <summary>Reads a tar back into plain records, for assertions.</summary>
internal static class TarInspection
{
    public sealed record Entry(string Name, TarEntryType Type, UnixFileMode Mode, DateTimeOffset ModificationTime, int Uid, int Gid, string UserName, string GroupName, string LinkName, TarEntryFormat Format, IReadOnlyDictionary<string, string> ExtendedAttributes);

    public static List<Entry> Read(byte[] tar)
    {
        var result = new List<Entry>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            var posix = (PosixTarEntry)entry;
            var attributes = entry is PaxTarEntry pax ? pax.ExtendedAttributes : new Dictionary<string, string>();
            result.Add(new Entry(entry.Name, entry.EntryType, entry.Mode, entry.ModificationTime, entry.Uid, entry.Gid, posix.UserName, posix.GroupName, entry.LinkName, entry.Format, attributes));
        }

        return result;
    }

    public static List<string> Names(byte[] tar) => Read(tar).Select(e => e.Name).ToList();
}
