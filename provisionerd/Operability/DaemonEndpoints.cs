using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Prometheus;

namespace Provisioning.Daemon.Operability;

/// <summary>
/// The daemon's HTTP endpoints: <c>/healthz</c> (the process runs) and <c>/readyz</c> (registered and
/// connected) on the health address, <c>/metrics</c> on the metrics address; one Kestrel server per
/// distinct address, none when both are off.
/// </summary>
internal sealed class DaemonEndpoints : IAsyncDisposable
{
    private readonly List<WebApplication> _servers;

    private DaemonEndpoints(List<WebApplication> servers, Uri? health, Uri? metrics)
    {
        _servers = servers;
        HealthUrl = health;
        MetricsUrl = metrics;
    }

    public Uri? HealthUrl { get; }

    public Uri? MetricsUrl { get; }

    public static async Task<DaemonEndpoints> StartAsync(ProvisionerDaemonOptions options, ProvisionerDaemon daemon, ILogger logger, CancellationToken cancellationToken)
    {
        var servers = new List<WebApplication>();
        Uri? health = null;
        Uri? metrics = null;
        try
        {
            var same = options.HealthAddress is not null && string.Equals(options.HealthAddress, options.MetricsAddress, StringComparison.OrdinalIgnoreCase);
            if (options.HealthAddress is { } healthAddress)
            {
                health = await StartServerAsync(servers, healthAddress, daemon, withHealth: true, withMetrics: same, logger, cancellationToken).ConfigureAwait(false);
                metrics = same ? health : null;
            }

            if (options.MetricsAddress is { } metricsAddress && !same)
            {
                metrics = await StartServerAsync(servers, metricsAddress, daemon, withHealth: false, withMetrics: true, logger, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        var endpoints = new DaemonEndpoints(servers, health, metrics);
        daemon.Endpoints = endpoints;
        return endpoints;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Uri> StartServerAsync(List<WebApplication> servers, string address, ProvisionerDaemon daemon, bool withHealth, bool withMetrics, ILogger logger, CancellationToken cancellationToken)
    {
        var (host, port) = ProvisionerDaemonOptionsValidator.ParseListenAddress(address)
            ?? throw new ProvisionerDaemonException($"'{address}' is not host:port.", ProvisionerDaemonException.ConfigurationExitCode);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var urlHost = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        builder.WebHost.UseUrls($"http://{urlHost}:{port}");
        var app = builder.Build();
        servers.Add(app);
        var paths = new List<string>();
        if (withHealth)
        {
            app.MapGet("/healthz", () => daemon.IsAlive ? Results.Text("ok\n") : Results.Text("stopped\n", statusCode: StatusCodes.Status503ServiceUnavailable));
            app.MapGet("/readyz", () => daemon.IsReady
                ? Results.Text("ready\n")
                : Results.Text("not ready: not registered, not connected to the coordinator, or draining\n", statusCode: StatusCodes.Status503ServiceUnavailable));
            paths.Add("/healthz");
            paths.Add("/readyz");
        }

        if (withMetrics)
        {
            app.MapGet("/metrics", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await daemon.MetricsRegistry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            });
            paths.Add("/metrics");
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new ProvisionerDaemonException(
                $"Cannot listen on {address} ({ex.Message}): pick a free port, or another address with --health-address / --metrics-address.",
                ProvisionerDaemonException.ConfigurationExitCode,
                ex);
        }

        var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? $"http://{urlHost}:{port}";
        var uri = new Uri(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
        DaemonLog.Serving(logger, string.Join(", ", paths), uri.Authority);
        return uri;
    }
}
