namespace Provisioning.Cli.Commands;

/// <summary>Prints rows as left-aligned columns under upper-case headers.</summary>
internal static class TextTable
{
    public static void Write(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((header, column) => Math.Max(header.Length, all.Count == 0 ? 0 : all.Max(row => row[column].Length))).ToArray();
        Console.WriteLine(Format(headers.Select(header => header.ToUpperInvariant()).ToList(), widths));
        foreach (var row in all)
        {
            Console.WriteLine(Format(row, widths));
        }
    }

    public static string Tags(IReadOnlyDictionary<string, string> tags) =>
        tags.Count == 0 ? "-" : string.Join(",", tags.OrderBy(tag => tag.Key, StringComparer.Ordinal).Select(tag => $"{tag.Key}={tag.Value}"));

    public static string Time(DateTime? time) => time is { } value ? value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private static string Format(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, column) => column == cells.Count - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd();
}
