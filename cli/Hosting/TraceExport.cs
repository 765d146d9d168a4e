using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

using Provisioning.Sdk.Telemetry;

namespace Provisioning.Cli.Hosting;

/// <summary>
/// Exports the traces of `provisioning server` and `provisioning provisioner start` over OTLP when the operator sets the
/// standard OpenTelemetry variables (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>; also
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_SERVICE_NAME</c>, read by the SDK itself).
/// Without them nothing listens to the activity sources, so tracing costs nothing.
/// </summary>
internal static class TraceExport
{
    public static bool IsConfigured =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
        || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));

    /// <summary>Adds OTLP trace export of the product's sources (and, with <paramref name="restRequests"/>, of REST requests) when configured.</summary>
    public static void AddTraceExport(this IHostApplicationBuilder builder, string serviceName, bool restRequests)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!IsConfigured)
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } named ? named : serviceName,
                serviceVersion: typeof(TraceExport).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing =>
            {
                tracing.AddSource([.. ProvisioningTelemetry.SourceNames]);
                if (restRequests)
                {
                    // The REST requests start the traces of builds; the daemons' gRPC calls (a heartbeat every few seconds
                    // per job) would only bury them, and the daemon's own spans already cover its work.
                    tracing.AddAspNetCoreInstrumentation(options => options.Filter = context =>
                        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true);
                }

                tracing.AddOtlpExporter();
            });
    }
}
