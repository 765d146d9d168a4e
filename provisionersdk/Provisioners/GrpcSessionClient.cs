using System.Runtime.CompilerServices;
using Grpc.Core;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>One session over a <c>Provisioner.Session</c> gRPC call, with gRPC errors translated.</summary>
internal sealed class GrpcSessionClient(AsyncDuplexStreamingCall<Request, Response> call, string socketPath) : IProvisionerSessionClient
{
    // gRPC allows one pending write per stream; requests and Cancel may come from different tasks.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _disposed;

    public async ValueTask SendAsync(Request request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
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
        finally
        {
            _writeLock.Release();
        }
    }

    public async IAsyncEnumerable<Response> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            bool more;
            try
            {
                more = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
            {
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
        _writeLock.Dispose();
    }

    internal static ProvisionerSessionException Translate(RpcException ex, string socketPath) => ex.StatusCode switch
    {
        StatusCode.Unavailable => new ProvisionerSessionException($"Cannot reach the provisioner on Unix socket '{socketPath}': {ex.Status.Detail}. Check that the provisioner server is running and that the path is right.", ex),
        StatusCode.FailedPrecondition or StatusCode.InvalidArgument => new ProvisionerSessionException(ex.Status.Detail, ex),
        _ => new ProvisionerSessionException($"The provisioner session on '{socketPath}' failed ({ex.StatusCode}): {ex.Status.Detail}", ex),
    };
}
