using System.Net;

using Hangfire;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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
    /// Listens on <see cref="CoordinatorOptions.HttpAddress"/> (REST: HTTP/1.1 in cleartext, HTTP/1.1 and HTTP/2 with TLS) and, for
    /// cleartext, on <see cref="CoordinatorOptions.GrpcAddress"/> with HTTP/2 only: Kestrel speaks cleartext
    /// HTTP/2 only on an HTTP/2-only endpoint (DESIGN.md §2.1).
    /// </summary>
    public static void ListenOnCoordinatorAddresses(this KestrelServerOptions kestrel, CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        var http = new Uri(options.HttpAddress);
        // Cleartext HTTP/2 needs prior knowledge, which browsers and curl do not use on a mixed endpoint:
        // offering it there only makes Kestrel warn at start. With TLS, ALPN picks HTTP/2 for gRPC.
        Listen(kestrel, http, http.Scheme == Uri.UriSchemeHttps ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1);
        var grpc = new Uri(options.GrpcAddress);
        if (http.Scheme == Uri.UriSchemeHttp && !(grpc.Host == http.Host && grpc.Port == http.Port))
        {
            Listen(kestrel, grpc, HttpProtocols.Http2);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, Uri address, HttpProtocols protocols)
    {
        var ip = address.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(address.Host);
        kestrel.Listen(ip, address.Port, listen =>
        {
            listen.Protocols = protocols;
            if (address.Scheme == Uri.UriSchemeHttps)
            {
                listen.UseHttps();
            }
        });
    }
}
