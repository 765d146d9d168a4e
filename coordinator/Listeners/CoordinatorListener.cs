namespace Provisioning.Coordinator.Listeners;

/// <summary>Which of the coordinator's listeners a connection came in on: decides what may be served to it.</summary>
internal enum CoordinatorListener
{
    /// <summary>The REST address when gRPC has its own listener: the API, probes, admin-only /metrics; no gRPC.</summary>
    Rest,

    /// <summary>An https REST address that also serves the daemons' gRPC (ALPN).</summary>
    RestAndGrpc,

    /// <summary>The daemons' own gRPC listener: gRPC only.</summary>
    Grpc,

    /// <summary>The anonymous Prometheus listener (<see cref="CoordinatorOptions.MetricsAddress"/>): /metrics only.</summary>
    Metrics,
}
