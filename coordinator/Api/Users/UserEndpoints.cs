using System.Text.RegularExpressions;

using Dapper;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

using Npgsql;

using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Api.Users;

/// <summary>/users: an admin creates users (each gets a first token, shown once); everyone reads themselves and creates tokens.</summary>
internal static partial class UserEndpoints
{
    private static readonly TimeSpan NewUserTokenLifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromDays(30);
    private static readonly TimeSpan MaxTokenLifetime = TimeSpan.FromDays(3650);

    public static void Map(RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users");
        users.MapPost("/", CreateAsync).WithName("CreateUser").Produces<CreatedUserResponse>(StatusCodes.Status201Created);
        users.MapGet("/me", GetMeAsync).WithName("GetCurrentUser").Produces<UserResponse>();
        users.MapPost("/me/tokens", CreateTokenAsync).WithName("CreateToken").Produces<CreatedTokenResponse>(StatusCodes.Status201Created);
    }

    private static async Task<IResult> CreateAsync(CreateUserRequest request, ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        caller.Require(ApiRoles.Admin);
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
        var response = new UserResponse(user.Id, user.Username, user.Email, user.Name, user.Role, user.Status, user.CreatedAt);
        return TypedResults.Created($"/api/v1/users/{user.Username}", new CreatedUserResponse(response, token));
    }

    private static async Task<IResult> GetMeAsync(ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var user = await connection.QuerySingleAsync<(Guid Id, string Username, string Email, string Name, string Role, string Status, DateTime CreatedAt)>(new CommandDefinition(
            "SELECT id, username, email, name, role, status, created_at FROM users WHERE id = @Id",
            new { caller.Id },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return TypedResults.Ok(new UserResponse(user.Id, user.Username, user.Email, user.Name, user.Role, user.Status, user.CreatedAt));
    }

    private static async Task<IResult> CreateTokenAsync(CreateTokenRequest? request, ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
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
        return TypedResults.Created("/api/v1/users/me", new CreatedTokenResponse(key, name, DateTime.UtcNow + lifetime));
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailPattern();
}
