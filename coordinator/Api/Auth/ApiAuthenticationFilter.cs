using Microsoft.AspNetCore.Http;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>Refuses requests without a valid API token (401), before the endpoint runs.</summary>
internal sealed class ApiAuthenticationFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var user = await ApiUser.ResolveAsync(http).ConfigureAwait(false);
        if (!user.IsAuthenticated)
        {
            return ApiTokens.FromRequest(http.Request) is null
                ? Unauthorized($"No API token: send it as `Authorization: Bearer <token>` or in the `{ApiTokens.SessionHeader}` header (the first admin's token is in $PROVISIONING_HOME/session).")
                : Unauthorized("The API token is not valid (unknown, expired, or its user is suspended): create a new one with POST /api/v1/users/me/tokens.");
        }

        return await next(context).ConfigureAwait(false);
    }

    private static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
}
