namespace Provisioning.Coordinator.Files;

/// <summary>Why <see cref="FileStore"/> refused an upload.</summary>
public enum FileStoreFailure
{
    /// <summary>Not one of the kinds below.</summary>
    Other,

    /// <summary>More bytes than the upload limit.</summary>
    TooLarge,

    /// <summary>Fewer or more bytes than announced.</summary>
    SizeMismatch,

    /// <summary>The bytes do not have the announced SHA-256.</summary>
    HashMismatch,
}
