namespace Provisioning.Coordinator.Api.Health;

/// <summary>What a client or daemon needs to know about this coordinator: its version and where daemons connect over gRPC.</summary>
internal sealed record BuildInfoResponse(string Version, string GrpcAddress, string HttpAddress);
