namespace Provisioning.Sdk.Archives;

/// <summary>What a validated (or extracted) template archive holds.</summary>
/// <param name="EntryCount">All entries: files, directories and links (the number checked against <see cref="TemplateArchiveLimits.MaxFileCount"/>).</param>
/// <param name="FileCount">Regular files, hard links and symbolic links (directories not counted).</param>
/// <param name="TotalBytes">Bytes of file content once extracted.</param>
public sealed record TemplateArchiveSummary(int EntryCount, int FileCount, long TotalBytes);
