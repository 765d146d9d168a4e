using Grpc.Core;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>Bridges the <c>Provisioner.Session</c> call onto a <see cref="ProvisionerSessionHost"/>.</summary>
internal sealed class ProvisionerGrpcService(ProvisionerSessionHost host) : Provisioner.ProvisionerBase
{
    public override async Task Session(IAsyncStreamReader<Request> requestStream, IServerStreamWriter<Response> responseStream, ServerCallContext context)
    {
        // Headers first, so a client learns at once that the session is open (see UnixSocketProvisionerConnection).
        await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
        try
        {
            await host.RunAsync(
                requestStream.ReadAllAsync(context.CancellationToken),
                (response, cancellationToken) => new ValueTask(responseStream.WriteAsync(response, cancellationToken)),
                context.CancellationToken).ConfigureAwait(false);
        }
        catch (ProvisionerSessionException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
    }
}
