using Hangfire.Dashboard;

using Microsoft.AspNetCore.Authentication;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// The Hangfire dashboard (/hangfire) is for admins: the request must carry an admin's API token, as a header
/// (<c>Authorization: Bearer</c> or <c>Provisioning-Session-Token</c>) or, for a browser, the
/// <c>provisioning_session_token</c> cookie that <c>POST /api/v1/users/login</c> sets (see <see cref="ApiTokenAuthenticationHandler"/>).
/// </summary>
internal sealed class HangfireDashboardAuthorization : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var result = await context.GetHttpContext().AuthenticateAsync(ApiTokenAuthenticationHandler.SchemeName).ConfigureAwait(false);
        return ApiUser.FromPrincipal(result.Principal).IsAdmin;
    }
}
