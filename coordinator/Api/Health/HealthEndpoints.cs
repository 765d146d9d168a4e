using System.Reflection;

using Dapper;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Api.Health;

/// <summary>
/// /api/v1/buildinfo, and the unauthenticated probes /healthz (the process serves) and /readyz (database reachable,
/// migrations applied; "ready", then one "warning: …" line per <see cref="ReadinessWarnings"/> entry, which never fail readiness).
/// </summary>
internal static class HealthEndpoints
{
    public static void MapBuildInfo(RouteGroupBuilder publicApi)
    {
        publicApi.MapGet("/buildinfo", GetBuildInfo).WithTags("System").WithName("GetBuildInfo");
    }

    public static void MapProbes(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok")).WithTags("System").WithName("Healthz");
        endpoints.MapGet("/readyz", ReadyAsync).WithTags("System").WithName("Readyz");
    }

    internal static string Version { get; } =
        typeof(HealthEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// The gRPC address daemons should use: in cleartext the separate HTTP/2-only endpoint (Kestrel speaks
    /// cleartext HTTP/2 only there), with TLS the REST address itself (ALPN negotiates HTTP/2).
    /// </summary>
    private static BuildInfoResponse GetBuildInfo(IOptions<CoordinatorOptions> options)
    {
        var settings = options.Value;
        var grpc = settings.HttpAddress.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? settings.HttpAddress : settings.GrpcAddress;
        return new BuildInfoResponse(Version, grpc, settings.HttpAddress);
    }

    private static async Task<IResult> ReadyAsync(CoordinatorDatabase database, ReadinessWarnings warnings, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var applied = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT scriptname FROM schemaversions", cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            var missing = DatabaseMigrator.ScriptNames.Where(script => !applied.Contains(script)).ToList();
            return missing.Count == 0
                ? TypedResults.Text(string.Concat(["ready", .. warnings.All.Select(warning => "\nwarning: " + warning)]))
                : TypedResults.Problem(detail: $"Migrations not applied yet: {string.Join(", ", missing)}.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready");
        }
        catch (Exception exception) when (exception is InvalidOperationException or Npgsql.NpgsqlException or TimeoutException)
        {
            return TypedResults.Problem(detail: $"The database is not reachable: {exception.Message}", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready");
        }
    }
}
