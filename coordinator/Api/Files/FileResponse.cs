namespace Provisioning.Coordinator.Api.Files;

/// <summary>The answer to an upload: the SHA-256 (hex) the file is stored under.</summary>
internal sealed record FileResponse(string Hash);
