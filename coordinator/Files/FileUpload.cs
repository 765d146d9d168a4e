namespace Provisioning.Coordinator.Files;

/// <summary>What <see cref="FileStore.StoreAsync"/> checks an upload against.</summary>
/// <param name="Mimetype">Stored with the file.</param>
/// <param name="MaxBytes">The most bytes accepted (the coordinator's upload limit).</param>
/// <param name="CreatedBy">The uploading user, when a user uploads.</param>
/// <param name="ExpectedSize">The size the uploader announced, when it did.</param>
/// <param name="ExpectedSha256">The SHA-256 (hex) the uploader announced, when it did.</param>
public sealed record FileUpload(string Mimetype, long MaxBytes, Guid? CreatedBy = null, long? ExpectedSize = null, string? ExpectedSha256 = null);
