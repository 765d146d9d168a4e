using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Api.Users;

/// <summary>
/// /users: HTTP in and out only (who may do what is <see cref="UserStore"/>'s to decide), plus the dashboard
/// cookie: login sets it, logout clears it; the server is the only one that writes it (HttpOnly).
/// </summary>
internal static class UserEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users");
        users.MapPost("/", CreateAsync).WithName("CreateUser").Produces<CreatedUserResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status403Forbidden);
        users.MapGet("/me", GetMeAsync).WithName("GetCurrentUser").Produces<UserResponse>();
        users.MapPost("/me/tokens", CreateTokenAsync).WithName("CreateToken").Produces<CreatedTokenResponse>(StatusCodes.Status201Created);
        users.MapPost("/me/sign-in-links", CreateSignInLinkAsync).WithName("CreateSignInLink").Produces<SignInLinkResponse>(StatusCodes.Status201Created);
    }

    /// <summary>Login and logout need no token: login proves one in its body, logout only ends the session its cookie names.</summary>
    public static void MapSession(RouteGroupBuilder publicApi)
    {
        var users = publicApi.MapGroup("/users").WithTags("Users");
        users.MapPost("/login", LoginAsync).WithName("Login").Produces<UserResponse>().ProducesProblem(StatusCodes.Status401Unauthorized);
        users.MapPost("/logout", LogoutAsync).WithName("Logout").Produces(StatusCodes.Status200OK);
    }

    private static async Task<IResult> CreateAsync(CreateUserRequest request, ApiUser caller, UserStore users, CancellationToken cancellationToken)
    {
        var created = await users.CreateAsync(caller, request, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/users/{created.User.Username}", created);
    }

    private static async Task<IResult> GetMeAsync(ApiUser caller, UserStore users, CancellationToken cancellationToken) =>
        TypedResults.Ok(await users.GetMeAsync(caller, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> CreateTokenAsync(CreateTokenRequest? request, ApiUser caller, UserStore users, CancellationToken cancellationToken) =>
        TypedResults.Created("/api/v1/users/me", await users.CreateTokenAsync(caller, request, cancellationToken).ConfigureAwait(false));

    /// <summary>The dashboard page that redeems a link (dashboard/Components/Pages/SignInLink.razor).</summary>
    public const string SignInLinkPath = "/login/link";

    private static async Task<IResult> CreateSignInLinkAsync(ApiUser caller, UserStore users, CancellationToken cancellationToken)
    {
        var (token, expiresAt) = await users.CreateSignInLinkAsync(caller, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created(SignInLinkPath, new SignInLinkResponse($"{SignInLinkPath}?token={token}", expiresAt));
    }

    private static async Task<IResult> LoginAsync(LoginRequest request, HttpContext http, UserStore users, CancellationToken cancellationToken)
    {
        var (user, session, expiresAt) = await users.LoginAsync(request.Token, cancellationToken).ConfigureAwait(false);
        SessionCookie.Append(http, session, expiresAt);
        return TypedResults.Ok(user);
    }

    private static async Task<IResult> LogoutAsync(HttpContext http, UserStore users, CancellationToken cancellationToken)
    {
        if (http.Request.Cookies.TryGetValue(ApiTokens.SessionCookie, out var session))
        {
            await users.LogoutAsync(session, cancellationToken).ConfigureAwait(false);
        }

        SessionCookie.Delete(http);
        return TypedResults.Ok();
    }
}
