namespace Provisioning.Coordinator.Files;

/// <summary>An upload the store refused; nothing was stored. <see cref="Kind"/> says why, the message what to do.</summary>
public sealed class FileStoreException : Exception
{
    public FileStoreException()
    {
    }

    public FileStoreException(string message)
        : base(message)
    {
    }

    public FileStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private FileStoreException(FileStoreFailure kind, string message)
        : base(message) => Kind = kind;

    public FileStoreFailure Kind { get; }

    internal static FileStoreException TooLarge(long received, long maxBytes) => new(
        FileStoreFailure.TooLarge,
        $"The upload exceeds this coordinator's limit of {maxBytes} bytes ({received} received so far); raise --max-upload-size to allow more.");

    internal static FileStoreException SizeMismatch(long received, long announced) => new(
        FileStoreFailure.SizeMismatch,
        $"The upload ended after {received} bytes, but {announced} were announced; send the whole file again.");

    internal static FileStoreException HashMismatch(string actual, string expected) => new(
        FileStoreFailure.HashMismatch,
        $"The received bytes have SHA-256 {actual}, not {expected} as announced; the upload was corrupted, send it again.");
}
