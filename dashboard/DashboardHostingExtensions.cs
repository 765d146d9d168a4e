using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

using Provisioning.Dashboard.Components;
using Provisioning.Dashboard.Session;

namespace Provisioning.Dashboard;

/// <summary>
/// Composition of the web dashboard in the coordinator's host (the `provisioning server` command): Razor components
/// rendered on the server at the root of the HTTP address, and their script and style sheet under
/// <see cref="DashboardAssets.BasePath"/>. Pages call the coordinator's data-access layer (Access/) with the signed-in
/// caller, exactly as the REST endpoints do (docs/decisions/0013-web-dashboard.md).
/// </summary>
public static class DashboardHostingExtensions
{
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRazorComponents();
        builder.Services.AddSingleton<DashboardAssets>();
        return builder;
    }

    /// <summary>
    /// Adds the antiforgery check every dashboard form needs (after the host's authentication, before its endpoints) and
    /// maps the pages and their assets.
    /// </summary>
    public static WebApplication MapDashboard(this WebApplication endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.UseAntiforgery();
        endpoints.UseDashboardStatus();
        endpoints.MapGet(DashboardAssets.BasePath + "/{name}", (string name, HttpContext http, DashboardAssets assets) => assets.Serve(name, http))
            .ExcludeFromDescription();
        endpoints.MapRazorComponents<App>();
        return endpoints;
    }
}
