namespace Provisioning.Coordinator.Files;

/// <summary>A stored file's metadata.</summary>
public sealed record StoredFileInfo(string Hash, string Mimetype, long Size, Guid? CreatedBy, DateTime CreatedAt);
