using System.Text.Json;

using Hangfire;
using Hangfire.Dashboard;

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

using Prometheus;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.DryRuns;
using Provisioning.Coordinator.Api.Files;
using Provisioning.Coordinator.Api.Health;
using Provisioning.Coordinator.Api.Jobs;
using Provisioning.Coordinator.Api.Metrics;
using Provisioning.Coordinator.Api.Provisioners;
using Provisioning.Coordinator.Api.Templates;
using Provisioning.Coordinator.Api.Users;
using Provisioning.Coordinator.Api.Workspaces;
using Provisioning.Coordinator.Listeners;
using Provisioning.Coordinator.Queueing;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Api;

/// <summary>
/// Composition of the REST API: /api/v1 (JSON with snake_case names, ProblemDetails errors, API tokens),
/// the OpenAPI document at /openapi/v1.json, /healthz, /readyz, /metrics and the admin-only Hangfire
/// dashboard at /hangfire.
/// </summary>
public static class ApiHostingExtensions
{
    public const string BasePath = "/api/v1";
    public const string DashboardPath = "/hangfire";

    /// <summary>Who may read /metrics: an admin, or anyone on the metrics listener.</summary>
    private const string MetricsReaderPolicy = "metrics-reader";

    public static IHostApplicationBuilder AddCoordinatorApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(json =>
        {
            // Property names as the reference system spells them; dictionary keys (tags) stay as given.
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
        });
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status400BadRequest => "The request could not be read: send a JSON body in the shape /openapi/v1.json describes, with the required values.",
                StatusCodes.Status404NotFound => "No such endpoint: see /openapi/v1.json for the API.",
                StatusCodes.Status405MethodNotAllowed => "This endpoint does not accept that method: see /openapi/v1.json.",
                _ => null,
            };
        });
        services.AddExceptionHandler<DatabaseUnavailableHandler>();
        services.AddTransient<Microsoft.AspNetCore.Hosting.IStartupFilter, ApiStartupFilter>();
        services.AddOpenApi();
        services.AddSingleton<ApiTokens>();
        services.AddAuthentication(ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, configureOptions: null);

        // Every /api/v1 endpoint but buildinfo, login and logout needs an authenticated caller; what the caller may
        // do is decided by the data-access layer (Access/), which each endpoint calls with the caller.
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(ApiTokenAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build())
            .AddPolicy(MetricsReaderPolicy, new AuthorizationPolicyBuilder(ApiTokenAuthenticationHandler.SchemeName)
                .RequireAssertion(context => context.Resource is HttpContext http && ListenerRouting.Of(http) == CoordinatorListener.Metrics || ApiUser.FromPrincipal(context.User).IsAdmin)
                .Build());
        services.AddSingleton<HangfireDashboardAuthorization>();
        services.AddSingleton<WorkspaceBuilder>();
        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<DryRunStore>();
        services.AddSingleton<TemplateStore>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<ProvisionerStore>();
        services.AddSingleton<CoordinatorMetrics>();
        services.AddSingleton<ProvisionerJobDescriptions>();
        services.AddSingleton<JobLogNotifications>();
        services.AddHostedService(provider => provider.GetRequiredService<JobLogNotifications>());
        services.AddHostedService<AdminBootstrapper>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCoordinatorApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapOpenApi();
        HealthEndpoints.MapProbes(endpoints);
        // The metrics describe the whole fleet's queue and run database queries: admins on the REST port, anyone on the
        // --metrics-address listener an operator opens to their scraper only.
        endpoints.MapMetrics("/metrics", endpoints.ServiceProvider.GetRequiredService<CoordinatorMetrics>().Registry).RequireAuthorization(MetricsReaderPolicy);
        MapDashboard(endpoints);

        var publicApi = endpoints.MapGroup(BasePath).AddEndpointFilter<ApiProblemFilter>();
        HealthEndpoints.MapBuildInfo(publicApi);
        UserEndpoints.MapSession(publicApi);

        var api = endpoints.MapGroup(BasePath).AddEndpointFilter<ApiProblemFilter>().RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        UserEndpoints.Map(api);
        FileEndpoints.Map(api);
        TemplateEndpoints.Map(api);
        DryRunEndpoints.Map(api);
        WorkspaceEndpoints.Map(api);
        OrphanedStateEndpoints.Map(api);
        JobEndpoints.Map(api);
        ProvisionerEndpoints.Map(api);
        return endpoints;
    }

    /// <summary>
    /// The Hangfire dashboard, for admins (see <see cref="HangfireDashboardAuthorization"/>). Its pipeline is
    /// built on the first request, because Hangfire resolves the job storage when the pipeline is built and
    /// the storage exists only once the database has started.
    /// </summary>
    private static void MapDashboard(IEndpointRouteBuilder endpoints)
    {
        // Not services.AddHangfire + UseHangfireDashboard: those install process-wide Hangfire settings (its log
        // provider) bound to one host's logger factory, which breaks the next host in the same process.
        var pipeline = new Lazy<RequestDelegate>(() =>
        {
            var descriptions = endpoints.ServiceProvider.GetRequiredService<ProvisionerJobDescriptions>();
            var options = new DashboardOptions
            {
                Authorization = [],
                AsyncAuthorization = [endpoints.ServiceProvider.GetRequiredService<HangfireDashboardAuthorization>()],
                DisplayStorageConnectionString = false,
                // Back to the web dashboard, where an admin came from.
                AppPath = "/workspaces",
                DisplayNameFunc = (_, job) => job.Args is [var first, ..] && Guid.TryParse(first?.ToString(), out var provisionerJobId)
                    ? descriptions.Describe(provisionerJobId)
                    : job.ToString(),
            };
            var storage = endpoints.ServiceProvider.GetRequiredService<JobStorage>();
            var app = endpoints.CreateApplicationBuilder();
            app.Map(DashboardPath, dashboard => dashboard.UseMiddleware<AspNetCoreDashboardMiddleware>(storage, options, DashboardRoutes.Routes));
            return app.Build();
        });
        endpoints.Map(DashboardPath + "/{**path}", context => pipeline.Value(context)).ExcludeFromDescription();
    }
}
