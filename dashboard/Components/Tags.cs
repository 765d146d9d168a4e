namespace Provisioning.Dashboard.Components;

/// <summary>A tag set as operators write it (<c>key=value</c>, sorted), or "untagged".</summary>
internal static class Tags
{
    public static string Format(IReadOnlyDictionary<string, string> tags) =>
        tags.Count == 0 ? "untagged" : string.Join(", ", tags.OrderBy(tag => tag.Key, StringComparer.Ordinal).Select(tag => $"{tag.Key}={tag.Value}"));
}
