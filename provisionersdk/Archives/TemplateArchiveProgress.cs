namespace Provisioning.Sdk.Archives;

/// <summary>Progress of <see cref="TemplateArchiveWriter.PackAsync"/>, reported after each entry.</summary>
/// <param name="EntriesWritten">Entries written so far.</param>
/// <param name="TotalEntries">Entries the archive will hold.</param>
/// <param name="BytesWritten">Tar bytes written so far.</param>
/// <param name="CurrentPath">Archive path of the entry just written, as named in the tar (directories end in '/').</param>
public sealed record TemplateArchiveProgress(int EntriesWritten, int TotalEntries, long BytesWritten, string CurrentPath);
