using System.Text.RegularExpressions;

using Dapper;

using Microsoft.AspNetCore.Http;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Users;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// Users and their API tokens, for a caller: admins create users (each gets a first token, shown once);
/// everyone reads themselves and creates tokens for themselves; a dashboard session is a token of its own,
/// created from a valid token at login and deleted at logout.
/// </summary>
internal sealed partial class UserStore(NpgsqlDataSource dataSource, ApiTokens tokens)
{
    /// <summary>The name of the tokens that back dashboard cookies; logout deletes only tokens of this name.</summary>
    public const string DashboardSessionName = "dashboard session";

    /// <summary>How long a dashboard session (and its cookie) lasts.</summary>
    public static readonly TimeSpan DashboardSessionLifetime = TimeSpan.FromHours(24);

    private static readonly TimeSpan NewUserTokenLifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromDays(30);
    private static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(3650);

    public async Task<CreatedUserResponse> CreateAsync(ApiUser caller, CreateUserRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        AccessPolicy.RequireRole(caller, ApiRoles.Admin);
        var username = (request.Username ?? string.Empty).Trim();
        if (!ApiNames.IsValid(username))
        {
            throw ApiProblemException.Invalid("username", $"'{username}' is not a valid username: {ApiNames.Rule}.");
        }

        var email = (request.Email ?? string.Empty).Trim();
        if (!EmailPattern().IsMatch(email))
        {
            throw ApiProblemException.Invalid("email", $"'{email}' is not an email address.");
        }

        var role = string.IsNullOrWhiteSpace(request.Role) ? ApiRoles.Member : request.Role.Trim();
        if (!ApiRoles.IsKnown(role))
        {
            throw ApiProblemException.Invalid("role", $"Unknown role '{role}': use {ApiRoles.Admin}, {ApiRoles.TemplateAdmin} or {ApiRoles.Member}.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var taken = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM users WHERE NOT deleted AND (lower(username) = lower(@Username) OR lower(email) = lower(@Email)))",
            new { Username = username, Email = email }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (taken)
        {
            throw ApiProblemException.Conflict($"A user named '{username}' or with email '{email}' exists already.");
        }

        var user = await connection.QuerySingleAsync<(Guid Id, string Username, string Email, string Name, string Role, string Status, DateTime CreatedAt)>(new CommandDefinition(
            """
            INSERT INTO users (username, email, name, role, is_admin) VALUES (@Username, @Email, @Name, @Role, @Role = 'admin')
            RETURNING id, username, email, name, role, status, created_at
            """,
            new { Username = username, Email = email, Name = request.Name?.Trim() ?? string.Empty, Role = role },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        var token = await ApiTokens.CreateAsync(connection, transaction, user.Id, "first token", NewUserTokenLifetime, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new CreatedUserResponse(new UserResponse(user.Id, user.Username, user.Email, user.Name, user.Role, user.Status, user.CreatedAt), token);
    }

    /// <summary>The caller itself: the only user a caller reads.</summary>
    public async Task<UserResponse> GetMeAsync(ApiUser caller, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadUserAsync(connection, caller.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a dashboard session from a valid API token: a new token named <see cref="DashboardSessionName"/>, lasting
    /// <see cref="DashboardSessionLifetime"/>, for the cookie (so the cookie never holds the caller's CLI token); 401 when the token is not valid.
    /// </summary>
    public async Task<(UserResponse User, string Session, DateTime ExpiresAt)> LoginAsync(string? token, CancellationToken cancellationToken = default)
    {
        var user = string.IsNullOrWhiteSpace(token) ? null : await tokens.AuthenticateAsync(token.Trim(), cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            throw new ApiProblemException(
                StatusCodes.Status401Unauthorized,
                "Unauthorized",
                "The token is not valid (unknown, expired, or its user is suspended): log in with an API token, e.g. the one `provisioning login` stored or a new one from POST /api/v1/users/me/tokens.",
                "token");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var session = await ApiTokens.CreateAsync(connection, null, user.Id, DashboardSessionName, DashboardSessionLifetime, cancellationToken).ConfigureAwait(false);
        return (await ReadUserAsync(connection, user.Id, cancellationToken).ConfigureAwait(false), session, DateTime.UtcNow + DashboardSessionLifetime);
    }

    /// <summary>A one-time sign-in link's token: redeemed once, by <see cref="RedeemSignInLinkAsync"/>, within <see cref="SignInLinkLifetime"/>.</summary>
    public const string SignInLinkName = "sign-in link";

    public static readonly TimeSpan SignInLinkLifetime = TimeSpan.FromMinutes(15);

    /// <summary>
    /// A token for a one-time sign-in link to the dashboard for the caller (e.g. what develop.sh prints): it signs in
    /// only through <see cref="RedeemSignInLinkAsync"/>, once, within <see cref="SignInLinkLifetime"/>.
    /// </summary>
    public async Task<(string Token, DateTime ExpiresAt)> CreateSignInLinkAsync(ApiUser caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsAuthenticated)
        {
            throw new ApiProblemException(StatusCodes.Status401Unauthorized, "Unauthorized", "Sign-in links are created with an API token.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var token = await ApiTokens.CreateAsync(connection, null, caller.Id, SignInLinkName, SignInLinkLifetime, cancellationToken).ConfigureAwait(false);
        return (token, DateTime.UtcNow + SignInLinkLifetime);
    }

    /// <summary>
    /// Starts a dashboard session (as <see cref="LoginAsync"/>) from a sign-in link's token and deletes that token in the
    /// same statement that proves it unused, so a link signs in once; 401 for any other token, a used or an expired link.
    /// </summary>
    public async Task<(UserResponse User, string Session, DateTime ExpiresAt)> RedeemSignInLinkAsync(string? token, CancellationToken cancellationToken = default)
    {
        var user = string.IsNullOrWhiteSpace(token) ? null : await tokens.AuthenticateAsync(token.Trim(), cancellationToken).ConfigureAwait(false);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var redeemed = user is not null && await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM api_keys WHERE id = @Id AND user_id = @UserId AND name = @Name",
            new { Id = token!.Trim()[..token.Trim().IndexOf('-', StringComparison.Ordinal)], UserId = user.Id, Name = SignInLinkName },
            cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
        if (!redeemed)
        {
            throw new ApiProblemException(
                StatusCodes.Status401Unauthorized,
                "Unauthorized",
                "This sign-in link is not valid: it was used already, it expired (links last 15 minutes), or it was copied incompletely. Sign in with an API token instead.",
                "token");
        }

        var session = await ApiTokens.CreateAsync(connection, null, user!.Id, DashboardSessionName, DashboardSessionLifetime, cancellationToken).ConfigureAwait(false);
        return (await ReadUserAsync(connection, user.Id, cancellationToken).ConfigureAwait(false), session, DateTime.UtcNow + DashboardSessionLifetime);
    }

    /// <summary>Ends the dashboard session <paramref name="session"/> (a cookie's token): deletes it when it is a valid session token; any other token is left alone.</summary>
    public async Task LogoutAsync(string? session, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(session) || await tokens.AuthenticateAsync(session, cancellationToken).ConfigureAwait(false) is not { } user)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM api_keys WHERE id = @Id AND user_id = @UserId AND name = @Name",
            new { Id = session[..session.IndexOf('-', StringComparison.Ordinal)], UserId = user.Id, Name = DashboardSessionName },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static async Task<UserResponse> ReadUserAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellationToken)
    {
        var user = await connection.QuerySingleAsync<(Guid Id, string Username, string Email, string Name, string Role, string Status, DateTime CreatedAt)>(new CommandDefinition(
            "SELECT id, username, email, name, role, status, created_at FROM users WHERE id = @Id",
            new { Id = id },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new UserResponse(user.Id, user.Username, user.Email, user.Name, user.Role, user.Status, user.CreatedAt);
    }

    /// <summary>A new token for the caller itself (never for anyone else).</summary>
    public async Task<CreatedTokenResponse> CreateTokenAsync(ApiUser caller, CreateTokenRequest? request, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Member);
        var lifetime = request?.LifetimeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultTokenLifetime;
        if (lifetime <= TimeSpan.Zero || lifetime > MaxTokenLifetime)
        {
            throw ApiProblemException.Invalid("lifetime_seconds", $"Use a lifetime between 1 second and {MaxTokenLifetime.TotalSeconds:0} seconds (10 years); the default is 30 days.");
        }

        var name = request?.Name?.Trim() ?? string.Empty;
        if (name.Length > 64)
        {
            throw ApiProblemException.Invalid("name", "A token name has at most 64 characters.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var key = await ApiTokens.CreateAsync(connection, null, caller.Id, name, lifetime, cancellationToken).ConfigureAwait(false);
        return new CreatedTokenResponse(key, name, DateTime.UtcNow + lifetime);
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailPattern();
}
