using System.Text.Encodings.Web;

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// ASP.NET Core authentication for the API and the dashboard: an API token as <c>Authorization: Bearer</c>, in the
/// <c>Provisioning-Session-Token</c> header, or in the <c>provisioning_session_token</c> cookie that login sets.
/// The cookie is for the dashboard (browsers send it by themselves, so it is a CSRF risk): it authenticates
/// safe methods (GET, HEAD, OPTIONS) on /api/v1 and anything under /hangfire, never an unsafe method on /api/v1.
/// Endpoints require an authenticated user through the default authorization policy; roles are the data-access
/// layer's (Access/AccessPolicy). See docs/decisions/0003-authorization-layer.md.
/// </summary>
internal sealed class ApiTokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    private const string NoToken =
        $"No API token: send it as `Authorization: Bearer <token>` or in the `{ApiTokens.SessionHeader}` header (the first admin's token is in $PROVISIONING_HOME/session).";

    private const string InvalidToken =
        "The API token is not valid (unknown, expired, or its user is suspended): create a new one with POST /api/v1/users/me/tokens.";

    private const string CookieRefused =
        $"The `{ApiTokens.SessionCookie}` cookie is for reading (GET) and the dashboard only: send POST, PUT, PATCH and DELETE requests with `Authorization: Bearer <token>` or the `{ApiTokens.SessionHeader}` header.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!ApiTokens.TryRead(Request, out var token, out var fromCookie))
        {
            return AuthenticateResult.NoResult();
        }

        if (fromCookie && IsUnsafeApiRequest(Request))
        {
            return AuthenticateResult.Fail(CookieRefused);
        }

        var user = await tokens.AuthenticateAsync(token, Context.RequestAborted).ConfigureAwait(false);
        return user is null
            ? AuthenticateResult.Fail(InvalidToken)
            : AuthenticateResult.Success(new AuthenticationTicket(user.ToPrincipal(SchemeName), SchemeName));
    }

    /// <summary>401 as ProblemDetails JSON, saying what was wrong and how to authenticate.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        Response.Headers.WWWAuthenticate = "Bearer";
        await TypedResults.Problem(detail: result.Failure?.Message ?? NoToken, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized")
            .ExecuteAsync(Context).ConfigureAwait(false);
    }

    private static bool IsUnsafeApiRequest(HttpRequest request) =>
        request.Path.StartsWithSegments(ApiHostingExtensions.BasePath, StringComparison.OrdinalIgnoreCase)
        && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method));
}
