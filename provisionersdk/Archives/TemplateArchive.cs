namespace Provisioning.Sdk.Archives;

/// <summary>A packed template archive: what identifies it and how big it is.</summary>
/// <param name="Sha256">SHA-256 of the tar bytes, lower-case hex; equal for equal directory content.</param>
/// <param name="Size">Length of the tar in bytes.</param>
/// <param name="FileCount">Regular files and symbolic links in the archive (directories not counted).</param>
public sealed record TemplateArchive(string Sha256, long Size, int FileCount);
