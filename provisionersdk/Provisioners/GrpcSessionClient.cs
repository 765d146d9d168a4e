using System.Runtime.CompilerServices;
using Grpc.Core;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>One session over a <c>Provisioner.Session</c> gRPC call, with gRPC errors translated.</summary>
internal sealed class GrpcSessionClient(AsyncDuplexStreamingCall<Request, Response> call, string socketPath) : IProvisionerSessionClient
{
    // gRPC allows one pending write per stream; requests and Cancel may come from different tasks.
    // Not disposed: a write's continuation may release it after the session was disposed.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Task<bool>? _pendingRead;
    private int _disposed;

    public async ValueTask SendAsync(Request request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        Task write;
        try
        {
            // Grpc.Net.Client cancels the whole call when a token given to a write or read fires, and a
            // daemon canceling its wait must not end the session: the caller's token only ends the wait.
            write = call.RequestStream.WriteAsync(request);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }

        // The next write may start only once this one is really done, even if the caller stopped waiting.
        _ = write.ContinueWith(_ => _writeLock.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw Translate(ex, socketPath);
        }
        catch (InvalidOperationException ex)
        {
            // Grpc.Net.Client refuses writes once the call has finished (the server ended the session).
            throw new ProvisionerSessionException($"The provisioner session on '{socketPath}' has ended; read the responses for its error, and open a new session to continue.", ex);
        }
    }

    public async IAsyncEnumerable<Response> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            bool more;
            try
            {
                // A read abandoned by a canceled caller stays pending and is picked up by the next read (see SendAsync).
                _pendingRead ??= call.ResponseStream.MoveNext(CancellationToken.None);
                more = await _pendingRead.WaitAsync(cancellationToken).ConfigureAwait(false);
                _pendingRead = null;
            }
            catch (RpcException ex)
            {
                _pendingRead = null;
                throw Translate(ex, socketPath);
            }

            if (!more)
            {
                yield break;
            }

            yield return call.ResponseStream.Current;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
        {
            // The call is already over; disposing below releases it.
        }

        // Disposing a call that has not finished cancels it, which cancels the running request on the server.
        call.Dispose();
    }

    internal static ProvisionerSessionException Translate(RpcException ex, string socketPath) => ex.StatusCode switch
    {
        StatusCode.Unavailable => new ProvisionerSessionException($"Cannot reach the provisioner on Unix socket '{socketPath}': {ex.Status.Detail}. Check that the provisioner server is running and that the path is right.", ex),
        StatusCode.FailedPrecondition or StatusCode.InvalidArgument => new ProvisionerSessionException(ex.Status.Detail, ex),
        _ => new ProvisionerSessionException($"The provisioner session on '{socketPath}' failed ({ex.StatusCode}): {ex.Status.Detail}", ex),
    };
}
