using Grpc.Core;

using Provisioning.TestProvider.Health;

namespace Provisioning.TestProvider.Plugin;

/// <summary>The gRPC health service go-plugin's client pings ("plugin" service): serving whenever the process is up.</summary>
internal sealed class HealthService : Health.Health.HealthBase
{
    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving });
}
