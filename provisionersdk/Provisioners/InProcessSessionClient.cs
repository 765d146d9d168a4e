using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>One in-process session: a host run between a request channel and a response channel.</summary>
internal sealed class InProcessSessionClient : IProvisionerSessionClient
{
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Response> _responses = Channel.CreateBounded<Response>(new BoundedChannelOptions(64) { SingleWriter = true });
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Task _run;
    private int _disposed;

    public InProcessSessionClient(ProvisionerSessionHost host)
    {
        _run = RunAsync(host);
    }

    public async ValueTask SendAsync(Request request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            await _requests.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new ProvisionerSessionException("The provisioner session has ended; open a new session to send more requests.", ex);
        }
    }

    public async IAsyncEnumerable<Response> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            bool more;
            try
            {
                more = await _responses.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }

            if (!more)
            {
                yield break;
            }

            while (_responses.Reader.TryRead(out var response))
            {
                yield return response;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _requests.Writer.TryComplete();
        await _cancellation.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(false);
        _cancellation.Dispose();
    }

    private async Task RunAsync(ProvisionerSessionHost host)
    {
        // Run the host off the caller's stack: OpenSessionAsync returns before the session starts.
        await Task.Yield();
        Exception? failure = null;
        try
        {
            await host.RunAsync(_requests.Reader.ReadAllAsync(_cancellation.Token), _responses.Writer.WriteAsync, _cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            // Disposed: the session ends without an error for the reader.
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        _requests.Writer.TryComplete();
        _responses.Writer.TryComplete(failure);
    }
}
