using System.Net;

using Hangfire;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Database;
using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Listeners;

namespace Provisioning.Coordinator;

/// <summary>Composition of the coordinator in an ASP.NET Core host (the `provisioning server` command).</summary>
public static class CoordinatorHostingExtensions
{
    /// <summary>Registers options (validated at start), the database, the queue and the daemon gRPC service.</summary>
    public static IHostApplicationBuilder AddCoordinator(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<CoordinatorOptions>().BindConfiguration(CoordinatorOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());

        services.TryAddSingleton<Api.Health.ReadinessWarnings>();
        services.AddSingleton<CoordinatorDatabase>();
        services.AddHostedService(provider => provider.GetRequiredService<CoordinatorDatabase>());
        services.AddSingleton(provider => provider.GetRequiredService<CoordinatorDatabase>().DataSource);
        services.AddSingleton<JobStorage>(provider => HangfireStorageFactory.Create(provider.GetRequiredService<CoordinatorDatabase>().ConnectionString));
        services.AddSingleton(provider => new ProvisionerJobLedger(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<ProvisionerJobQueue>();
        services.AddSingleton(new JobAcquirerOptions());
        services.AddSingleton<JobAcquirer>();
        services.AddSingleton<ProvisionerKeyStore>();
        services.AddSingleton<DaemonAuthenticator>();
        services.AddSingleton<DaemonStreams>();
        services.AddHostedService(provider => provider.GetRequiredService<DaemonStreams>());
        services.AddSingleton<DaemonRevocation>();
        services.AddSingleton<FileStore>();
        services.AddSingleton<JobReports>();
        services.AddHostedService<CoordinatorLiveness>();
        services.AddSingleton<CoordinatorMaintenance>();
        services.AddHostedService<CoordinatorMaintenanceService>();
        services.AddGrpc(grpc =>
        {
            // Chunks are 256 KiB; headroom for protobuf framing and the largest inline payloads.
            grpc.MaxReceiveMessageSize = 8 * 1024 * 1024;
            grpc.EnableDetailedErrors = false;
        });
        builder.AddCoordinatorApi();
        return builder;
    }

    /// <summary>Maps the daemon gRPC service.</summary>
    public static IEndpointRouteBuilder MapCoordinator(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGrpcService<ProvisionerDaemonService>();
        endpoints.MapCoordinatorApi();
        return endpoints;
    }

    /// <summary>
    /// Listens on <see cref="CoordinatorOptions.HttpAddress"/> (REST: HTTP/1.1 in cleartext; HTTP/1.1 and HTTP/2 with TLS, where
    /// ALPN also serves the daemons' gRPC on the same port), on a separate <see cref="CoordinatorOptions.GrpcAddress"/> (HTTP/2 only:
    /// Kestrel speaks cleartext HTTP/2 only on an HTTP/2-only endpoint) and on <see cref="CoordinatorOptions.MetricsAddress"/>.
    /// Each connection is tagged with its listener, so <see cref="ListenerRouting"/> serves on each port only what belongs there.
    /// </summary>
    public static void ListenOnCoordinatorAddresses(this KestrelServerOptions kestrel, CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        var http = new Uri(options.HttpAddress);
        // Cleartext HTTP/2 needs prior knowledge, which browsers and curl do not use on a mixed endpoint:
        // offering it there only makes Kestrel warn at start. With TLS, ALPN picks HTTP/2 for gRPC.
        var rest = options.HasSeparateGrpcListener ? CoordinatorListener.Rest : CoordinatorListener.RestAndGrpc;
        Listen(kestrel, http, options.HttpUsesTls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1, rest,
            options.HttpUsesTls ? CoordinatorTls.HttpsOptions(options, options.TlsCertFile!, options.TlsKeyFile) : null);
        if (options.HasSeparateGrpcListener)
        {
            var grpc = new Uri(options.GrpcAddress);
            var https = grpc.Scheme != Uri.UriSchemeHttps ? null
                : options.GrpcTlsCertFile is { Length: > 0 } grpcCertificate ? CoordinatorTls.HttpsOptions(options, grpcCertificate, options.GrpcTlsKeyFile)
                : CoordinatorTls.HttpsOptions(options, options.TlsCertFile!, options.TlsKeyFile);
            Listen(kestrel, grpc, HttpProtocols.Http2, CoordinatorListener.Grpc, https);
        }

        if (!string.IsNullOrWhiteSpace(options.MetricsAddress))
        {
            Listen(kestrel, new Uri(options.MetricsAddress), HttpProtocols.Http1, CoordinatorListener.Metrics, https: null);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, Uri address, HttpProtocols protocols, CoordinatorListener listener, HttpsConnectionAdapterOptions? https)
    {
        var ip = address.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(address.Host.Trim('[', ']'));
        kestrel.Listen(ip, address.Port, listen =>
        {
            listen.Protocols = protocols;
            listen.Use(next => connection =>
            {
                connection.Items[ListenerRouting.ConnectionItem] = listener;
                return next(connection);
            });
            if (https is not null)
            {
                listen.UseHttps(https);
            }
        });
    }
}
