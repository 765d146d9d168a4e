using System.Reflection;

using Dapper;

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Api.Health;

/// <summary>
/// /api/v1/buildinfo, and the unauthenticated probes /healthz (the process serves) and /readyz (database reachable,
/// migrations applied: "ready", else 503; to an admin also why not, or one "warning: …" line per <see cref="ReadinessWarnings"/>
/// entry, which never fail readiness).
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
    /// The gRPC address daemons should use: the separate HTTP/2-only listener, or with TLS on one port the REST
    /// address itself (ALPN negotiates HTTP/2).
    /// </summary>
    private static BuildInfoResponse GetBuildInfo(IOptions<CoordinatorOptions> options)
    {
        var settings = options.Value;
        return new BuildInfoResponse(Version, settings.AdvertisedGrpcAddress, settings.HttpAddress);
    }

    /// <summary>
    /// Anyone learns whether this replica is ready; only an admin learns why not and its warnings (database error text and
    /// the sandbox's state describe the deployment to whoever can reach the port).
    /// </summary>
    private static async Task<IResult> ReadyAsync(HttpContext context, CoordinatorDatabase database, ReadinessWarnings warnings, CancellationToken cancellationToken)
    {
        var authenticated = await context.AuthenticateAsync(ApiTokenAuthenticationHandler.SchemeName).ConfigureAwait(false);
        var detailed = ApiUser.FromPrincipal(authenticated.Principal).IsAdmin;
        string? problem;
        try
        {
            await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var applied = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT scriptname FROM schemaversions", cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            var missing = DatabaseMigrator.ScriptNames.Where(script => !applied.Contains(script)).ToList();
            problem = missing.Count == 0 ? null : $"Migrations not applied yet: {string.Join(", ", missing)}.";
        }
        catch (Exception exception) when (exception is InvalidOperationException or Npgsql.NpgsqlException or TimeoutException)
        {
            problem = $"The database is not reachable: {exception.Message}";
        }

        if (problem is not null)
        {
            return TypedResults.Problem(
                detail: detailed ? problem : "Not ready: an admin's token shows why here (or see the coordinator's log).",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Not ready");
        }

        return TypedResults.Text(detailed ? string.Concat(["ready", .. warnings.All.Select(warning => "\nwarning: " + warning)]) : "ready");
    }
}
