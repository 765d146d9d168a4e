using System.Security.Cryptography;
using System.Text;

using Dapper;

using Npgsql;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// Provisioner keys: <c>{id}.{secret}</c>, of which only the SHA-256 of the secret is stored (invariant 6).
/// A key's tags become the tags of every daemon that authenticates with it.
/// </summary>
public sealed class ProvisionerKeyStore(NpgsqlDataSource dataSource)
{
    /// <summary>Creates a key and returns its plaintext, which is shown once and never stored.</summary>
    public async Task<string> CreateAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var id = Guid.NewGuid();
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO provisioner_keys (id, name, hashed_secret, tags) VALUES (@Id, @Name, @Hash, @Tags::jsonb)",
            new { Id = id, Name = name.Trim(), Hash = Hash(secret), Tags = ProvisionerTags.ToJson(tags) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return $"{id:N}.{secret}";
    }

    /// <summary>The key's id and tags when <paramref name="key"/> is a valid provisioner key; null otherwise.</summary>
    internal async Task<DaemonCredential?> AuthenticateAsync(string key, CancellationToken cancellationToken)
    {
        var separator = key.IndexOf('.', StringComparison.Ordinal);
        if (separator <= 0 || !Guid.TryParseExact(key[..separator], "N", out var id))
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<(byte[] HashedSecret, string Tags)>(new CommandDefinition(
            "SELECT hashed_secret, tags::text FROM provisioner_keys WHERE id = @Id",
            new { Id = id },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.HashedSecret is null || !CryptographicOperations.FixedTimeEquals(row.HashedSecret, Hash(key[(separator + 1)..])))
        {
            return null;
        }

        return new DaemonCredential(id, ProvisionerTags.FromJson(row.Tags));
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
