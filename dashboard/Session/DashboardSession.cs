using Microsoft.AspNetCore.Http;

using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Dashboard.Session;

/// <summary>
/// Who is signed in: the caller the API's authentication scheme established from the session cookie, handed to the
/// data-access layer on every call exactly as the REST endpoints hand it (never a second set of rules).
/// </summary>
internal static class DashboardSession
{
    public static ApiUser Caller(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return ApiUser.FromPrincipal(http.User);
    }

    /// <summary>A local path to return to after signing in; anything else (another site) becomes the workspaces page.</summary>
    public static string SafeReturnPath(string? returnUrl) =>
        returnUrl is { Length: > 1 } path && path[0] == '/' && path[1] != '/' && path[1] != '\\' ? path : "/workspaces";
}
