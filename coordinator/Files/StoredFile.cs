namespace Provisioning.Coordinator.Files;

/// <summary>A file as stored: its SHA-256 (its name), its size, and whether this upload created it.</summary>
public sealed record StoredFile(string Hash, long Size, bool Created);
