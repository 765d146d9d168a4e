using Microsoft.Extensions.Hosting;

using Grpc.Core;

using Provisioning.TestProvider.GoPlugin;

namespace Provisioning.TestProvider.Plugin;

/// <summary>go-plugin's GRPCController: Terraform's client calls Shutdown when it closes a provider, then waits briefly before killing it.</summary>
internal sealed class ControllerService(IHostApplicationLifetime lifetime) : GRPCController.GRPCControllerBase
{
    public override Task<Empty> Shutdown(Empty request, ServerCallContext context)
    {
        lifetime.StopApplication();
        return Task.FromResult(new Empty());
    }
}
