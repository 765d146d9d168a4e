namespace Provisioning.Terraform;

/// <summary>
/// An exclusive lock on a file, held across processes (on Unix .NET takes an advisory <c>flock</c> for
/// <see cref="FileShare.None"/>, and two opens in one process conflict as well). Used where two slots or
/// two daemons on one host share a directory: the plugin cache during <c>init</c>, and installs.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    public static async Task<FileLock> AcquireAsync(string lockFilePath, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockFilePath)!);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileLock(new FileStream(lockFilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                // Held by someone else: poll, since flock offers no waitable handle to .NET.
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
