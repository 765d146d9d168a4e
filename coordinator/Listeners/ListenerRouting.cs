using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Provisioning.Coordinator.Listeners;

/// <summary>
/// Serves on each listener only what belongs there: the daemons' gRPC port answers gRPC only, the REST port no gRPC when
/// gRPC has a port of its own, the metrics port /metrics only. So a REST route is never reachable on the port that daemon
/// networks are opened to, and a misdirected client is told where to go.
/// </summary>
internal sealed class ListenerRouting(RequestDelegate next, IOptions<CoordinatorOptions> options)
{
    /// <summary>The connection item <see cref="CoordinatorHostingExtensions.ListenOnCoordinatorAddresses"/> sets to the <see cref="CoordinatorListener"/>.</summary>
    public const string ConnectionItem = "provisioning.listener";

    /// <summary>The listener of the request's connection; null for a host that did not tag its connections (tests' in-memory servers).</summary>
    public static CoordinatorListener? Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ConnectionItem, out var listener) == true ? listener as CoordinatorListener? : null;

    public Task InvokeAsync(HttpContext context)
    {
        var isGrpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
        var settings = options.Value;
        switch (Of(context))
        {
            case CoordinatorListener.Grpc when !isGrpc:
                return NotHereAsync(context, $"This port serves only the provisioner daemons' gRPC service; the REST API is at {settings.HttpAddress}.");
            case CoordinatorListener.Rest when isGrpc:
                // A gRPC client understands a trailers-only answer; "unimplemented" with where to connect instead.
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/grpc";
                context.Response.Headers["grpc-status"] = "12";
                context.Response.Headers["grpc-message"] = Uri.EscapeDataString($"gRPC is served on {settings.AdvertisedGrpcAddress}, not on the REST port.");
                return Task.CompletedTask;
            case CoordinatorListener.Metrics when !(HttpMethods.IsGet(context.Request.Method) && context.Request.Path == "/metrics"):
                return NotHereAsync(context, "This port serves only Prometheus metrics at /metrics.");
            default:
                return next(context);
        }
    }

    private static Task NotHereAsync(HttpContext context, string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not served on this port").ExecuteAsync(context);
}
