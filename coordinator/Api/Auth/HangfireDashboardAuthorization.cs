using Hangfire.Dashboard;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// The Hangfire dashboard (/hangfire) is for admins: the request must carry an admin's API token, as a
/// header (<c>Authorization: Bearer</c> or <c>Provisioning-Session-Token</c>) or, for a browser, the
/// <c>provisioning_session_token</c> cookie.
/// </summary>
internal sealed class HangfireDashboardAuthorization(ApiTokens tokens) : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var token = ApiTokens.FromRequest(http.Request);
        if (token is null)
        {
            return false;
        }

        var user = await tokens.AuthenticateAsync(token, http.RequestAborted).ConfigureAwait(false);
        return user is { IsAdmin: true };
    }
}
