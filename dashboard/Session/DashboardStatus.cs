using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Provisioning.Dashboard.Session;

/// <summary>
/// The status code of a page that answers a refusal with itself as the body (404 not yours or absent, 403, 409, 400 with
/// the form and its message). Razor components render no body for a 404 set while rendering (they leave it to
/// status-code pages, which here are the API's ProblemDetails), so the page records its status and it is applied
/// when the response starts, after the page was rendered.
/// </summary>
internal static class DashboardStatus
{
    private static readonly object Key = new();

    public static void Set(HttpContext http, int status)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Items[Key] = status;
    }

    public static void UseDashboardStatus(this WebApplication app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            if (context.Items.TryGetValue(Key, out var status) && status is int code)
            {
                context.Response.StatusCode = code;
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
