namespace Provisioning.Terraform.Tests;

public sealed class FileLockTests
{
    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_HeldLock_WaitsUntilReleased()
    {
        var directory = Directory.CreateTempSubdirectory("provisioning-lock-").FullName;
        var path = Path.Combine(directory, ".lock");
        var cancellationToken = TestContext.Current.CancellationToken;
        try
        {
            var first = await FileLock.AcquireAsync(path, cancellationToken);
            var second = FileLock.AcquireAsync(path, cancellationToken);
            await Task.Delay(300, cancellationToken);
            Assert.False(second.IsCompleted);

            first.Dispose();
            using var acquired = await second;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AcquireAsync_CanceledWhileWaiting_Throws()
    {
        var directory = Directory.CreateTempSubdirectory("provisioning-lock-").FullName;
        var path = Path.Combine(directory, ".lock");
        try
        {
            using var held = await FileLock.AcquireAsync(path, TestContext.Current.CancellationToken);
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FileLock.AcquireAsync(path, cancel.Token));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
