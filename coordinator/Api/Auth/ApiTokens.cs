using System.Security.Cryptography;
using System.Text;

using Dapper;

using Npgsql;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// API tokens: <c>{id}-{secret}</c>, of which only the SHA-256 of the secret is stored (invariant 6); the
/// plaintext is returned once, when the token is created.
/// </summary>
public sealed class ApiTokens(CoordinatorDatabase database)
{
    public const string SessionHeader = "Provisioning-Session-Token";
    public const string SessionCookie = "provisioning_session_token";

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Creates a token for <paramref name="userId"/> and returns its plaintext.</summary>
    public static async Task<string> CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, string name, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var id = RandomNumberGenerator.GetString(Alphabet, 10);
        var secret = RandomNumberGenerator.GetString(Alphabet, 32);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_keys (id, hashed_secret, user_id, name, expires_at) VALUES (@Id, @Hash, @UserId, @Name, now() + @Lifetime)",
            new { Id = id, Hash = Hash(secret), UserId = userId, Name = name, Lifetime = lifetime },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return $"{id}-{secret}";
    }

    /// <summary>The active user a token belongs to; null when the token is malformed, unknown, expired or its user suspended.</summary>
    public async Task<ApiUser?> AuthenticateAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        var separator = token.IndexOf('-', StringComparison.Ordinal);
        if (separator != 10 || token.Length > 128)
        {
            return null;
        }

        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<(byte[] HashedSecret, Guid UserId, string Username, string Email, string Role)>(new CommandDefinition(
            """
            UPDATE api_keys k SET last_used_at = now()
            FROM users u
            WHERE k.id = @Id AND u.id = k.user_id AND k.expires_at > now() AND u.status = 'active' AND NOT u.deleted
            RETURNING k.hashed_secret, u.id, u.username, u.email, u.role
            """,
            new { Id = token[..separator] },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.HashedSecret is null || !CryptographicOperations.FixedTimeEquals(row.HashedSecret, Hash(token[(separator + 1)..])))
        {
            return null;
        }

        return new ApiUser(row.UserId, row.Username, row.Email, row.Role);
    }

    /// <summary>
    /// The token a request carries: <c>Authorization: Bearer</c>, the session header, or (for browsers: the dashboard)
    /// the session cookie, in that order; <paramref name="fromCookie"/> says it came from the cookie, which
    /// <see cref="ApiTokenAuthenticationHandler"/> accepts only for reading.
    /// </summary>
    public static bool TryRead(Microsoft.AspNetCore.Http.HttpRequest request, out string token, out bool fromCookie)
    {
        ArgumentNullException.ThrowIfNull(request);
        fromCookie = false;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = authorization["Bearer ".Length..].Trim();
            return token.Length > 0;
        }

        token = request.Headers[SessionHeader].ToString().Trim();
        if (token.Length > 0)
        {
            return true;
        }

        fromCookie = request.Cookies.TryGetValue(SessionCookie, out var cookie) && cookie.Length > 0;
        token = fromCookie ? cookie! : string.Empty;
        return fromCookie;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
