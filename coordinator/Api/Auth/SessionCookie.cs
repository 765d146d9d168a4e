using Microsoft.AspNetCore.Http;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// The dashboard session cookie (<see cref="ApiTokens.SessionCookie"/>), written in one place for the login endpoint
/// and the dashboard's sign-in page: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure
/// on https, for the whole origin (the dashboard, the API's reads and /hangfire).
/// </summary>
internal static class SessionCookie
{
    public static void Append(HttpContext http, string session, DateTime expiresAt) =>
        http.Response.Cookies.Append(ApiTokens.SessionCookie, session, Options(http, expiresAt));

    public static void Delete(HttpContext http) =>
        http.Response.Cookies.Delete(ApiTokens.SessionCookie, Options(http, expiresAt: null));

    private static CookieOptions Options(HttpContext http, DateTime? expiresAt) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/",
        Expires = expiresAt,
        IsEssential = true,
    };
}
