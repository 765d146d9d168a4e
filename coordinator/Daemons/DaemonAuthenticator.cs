using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

using Dapper;

using Grpc.Core;

using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// Checks Register's credentials (provisioner key or pre-shared key), opens daemon sessions, and resolves the
/// daemon whose session a later call presents. One per process: it remembers the daemons it resolved, so a daemon's calls (two or more per job) do
/// not each write its last-seen time; that is refreshed at most every <see cref="LastSeenRefresh"/>, well
/// inside the time after which a daemon is shown offline.
/// </summary>
public sealed class DaemonAuthenticator(NpgsqlDataSource dataSource, ProvisionerKeyStore keys, IOptions<CoordinatorOptions> options)
{
    private const int MaxSlots = 256;

    private readonly ConcurrentDictionary<Guid, (DaemonRecord Daemon, long SeenAt)> _seen = new();

    /// <summary>How stale a daemon's last-seen time may get while it calls: a tenth of the hang timeout (which is also the offline threshold), at most 5 s.</summary>
    public TimeSpan LastSeenRefresh { get; } = TimeSpan.FromTicks(Math.Clamp(options.Value.JobHangTimeout.Ticks / 10, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(5).Ticks));

    internal async Task<DaemonCredential> AuthenticateAsync(ServerCallContext context)
    {
        var key = context.RequestHeaders.GetValue(ProvisionerDaemonMetadata.ProvisionerKey);
        if (!string.IsNullOrEmpty(key))
        {
            return await keys.AuthenticateAsync(key, context.CancellationToken).ConfigureAwait(false)
                ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "The provisioner key is not valid: create one with `provisioning provisioner keys create` and pass it unchanged."));
        }

        var psk = context.RequestHeaders.GetValue(ProvisionerDaemonMetadata.ProvisionerPsk);
        if (!string.IsNullOrEmpty(psk))
        {
            var expected = options.Value.ProvisionerPsk;
            if (string.IsNullOrEmpty(expected))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "This coordinator accepts no pre-shared key (none is configured): authenticate with a provisioner key."));
            }

            // Compare digests, so the comparison takes the same time whatever the lengths.
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(psk)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "The pre-shared key does not match the coordinator's (--provisioner-psk)."));
            }

            return new DaemonCredential(null, null);
        }

        throw new RpcException(new Status(
            StatusCode.Unauthenticated,
            $"No credentials: send a provisioner key in '{ProvisionerDaemonMetadata.ProvisionerKey}' or the pre-shared key in '{ProvisionerDaemonMetadata.ProvisionerPsk}'."));
    }

    /// <summary>
    /// Records (or updates) the daemon named in <paramref name="info"/> under <paramref name="credential"/> and
    /// opens a new session for it: the returned token (<c>{daemon id}.{secret}</c>) is what every later call
    /// presents. Only the secret's SHA-256 is stored; a new Register replaces the previous session.
    /// </summary>
    internal async Task<(DaemonRecord Daemon, IReadOnlyDictionary<string, string> Tags, string SessionToken)> RegisterAsync(DaemonCredential credential, DaemonInfo info, CancellationToken cancellationToken)
    {
        var name = info.Name.Trim();
        if (name.Length is 0 or > 128)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The daemon's name must be 1 to 128 characters (the default is the host name)."));
        }

        var provisioners = info.Provisioners.Select(provisioner => provisioner.Trim()).Where(provisioner => provisioner.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        if (provisioners.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The daemon declares no provisioner type: declare at least one, e.g. \"terraform\"."));
        }

        if (info.Slots is < 0 or > MaxSlots)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Slots must be between 1 and {MaxSlots}; {info.Slots} was given."));
        }

        IReadOnlyDictionary<string, string> tags;
        try
        {
            tags = credential.KeyTags ?? ProvisionerTags.Canonicalize(info.Tags);
        }
        catch (ArgumentException exception)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, exception.Message));
        }

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var daemon = await connection.QuerySingleAsync<DaemonRecord>(new CommandDefinition(
            $"""
            INSERT INTO provisioner_daemons (name, key_id, tags, provisioners, version, slots, last_seen_at, session_hash, psk_fingerprint)
            VALUES (@Name, @KeyId, @Tags::jsonb, @Provisioners, @Version, @Slots, now(), @SessionHash, @PskFingerprint)
            ON CONFLICT (name, (coalesce(key_id, '00000000-0000-0000-0000-000000000000'::uuid))) WHERE revoked_at IS NULL
            DO UPDATE SET tags = EXCLUDED.tags, provisioners = EXCLUDED.provisioners, version = EXCLUDED.version,
                          slots = EXCLUDED.slots, last_seen_at = now(), session_hash = EXCLUDED.session_hash, psk_fingerprint = EXCLUDED.psk_fingerprint
            RETURNING {DaemonColumns}
            """,
            new
            {
                Name = name,
                credential.KeyId,
                Tags = ProvisionerTags.ToJson(tags),
                Provisioners = provisioners,
                info.Version,
                Slots = Math.Max(1, info.Slots),
                SessionHash = HashSecret(secret),
                PskFingerprint = credential.KeyId is null ? CurrentPskFingerprint() : null,
            },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        _seen[daemon.Id] = (daemon, Stopwatch.GetTimestamp());
        return (daemon, tags, $"{daemon.Id:N}.{secret}");
    }

    /// <summary>
    /// Returns the daemon whose session the call presents. <paramref name="access"/> says what the call
    /// does: a daemon whose key was revoked may still report (and upload for) the jobs it holds, so that
    /// their states are not lost, but may take no new work.
    /// </summary>
    internal async Task<DaemonRecord> RequireDaemonAsync(ServerCallContext context, DaemonAccess access = DaemonAccess.Work)
    {
        var header = context.RequestHeaders.GetValue(ProvisionerDaemonMetadata.DaemonSession);
        if (string.IsNullOrEmpty(header))
        {
            throw new RpcException(new Status(
                StatusCode.Unauthenticated,
                $"Call Register first and send the session_token it returns in '{ProvisionerDaemonMetadata.DaemonSession}' on every later call."));
        }

        var separator = header.IndexOf('.', StringComparison.Ordinal);
        if (separator <= 0 || !Guid.TryParseExact(header[..separator], "N", out var daemonId))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"'{ProvisionerDaemonMetadata.DaemonSession}' is not a session token that Register issued: call Register again."));
        }

        var daemon = await SeeAsync(daemonId, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, $"Daemon {daemonId} is not registered (or was cleaned up as stale): call Register again."));

        if (daemon.SessionHash is null || !CryptographicOperations.FixedTimeEquals(daemon.SessionHash, HashSecret(header[(separator + 1)..])))
        {
            throw new RpcException(new Status(
                StatusCode.Unauthenticated,
                $"The session of daemon {daemon.Name} is not valid (another process registered under the same name since, or the token is wrong): call Register again."));
        }

        if (access == DaemonAccess.Work && !PskStillValid(daemon.KeyId, daemon.PskFingerprint))
        {
            throw new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"Daemon {daemon.Name} was admitted with a pre-shared key that this coordinator no longer accepts (--provisioner-psk changed): start it again with the current key."));
        }

        if (daemon.IsRevoked && access == DaemonAccess.Work)
        {
            throw new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"The provisioner key of daemon {daemon.Name} was revoked: it takes no more jobs. Start it again with a valid key."));
        }

        return daemon;
    }

    /// <summary>Drops what this process remembers of <paramref name="daemonIds"/>, so that their next call reads their row (after a revocation).</summary>
    internal void Forget(IEnumerable<Guid> daemonIds)
    {
        foreach (var id in daemonIds)
        {
            _seen.TryRemove(id, out _);
        }
    }

    /// <summary>Whether the session a stream was opened with is still the daemon's current one and not revoked; reads the row.</summary>
    internal async Task<IReadOnlySet<Guid>> StillValidAsync(IReadOnlyCollection<(Guid DaemonId, byte[] SessionHash)> sessions, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return new HashSet<Guid>();
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(Guid Id, byte[]? SessionHash, Guid? KeyId, byte[]? PskFingerprint)>(new CommandDefinition(
            "SELECT id, session_hash, key_id, psk_fingerprint FROM provisioner_daemons WHERE id = ANY(@Ids) AND revoked_at IS NULL",
            new { Ids = sessions.Select(session => session.DaemonId).Distinct().ToArray() },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        var current = rows.Where(row => row.SessionHash is not null && PskStillValid(row.KeyId, row.PskFingerprint)).ToDictionary(row => row.Id, row => row.SessionHash!);
        return sessions
            .Where(session => current.TryGetValue(session.DaemonId, out var hash) && CryptographicOperations.FixedTimeEquals(hash, session.SessionHash))
            .Select(session => session.DaemonId)
            .ToHashSet();
    }

    private const string DaemonColumns = "id, name, key_id, tags::text AS tags, provisioners, slots, session_hash, revoked_at, psk_fingerprint";

    /// <summary>The SHA-256 of the coordinator's pre-shared key, or null when it accepts none.</summary>
    private byte[]? CurrentPskFingerprint() =>
        string.IsNullOrEmpty(options.Value.ProvisionerPsk) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ProvisionerPsk));

    /// <summary>A daemon admitted by a provisioner key is checked through its key (revocation); one admitted by the pre-shared key, against the key in force now.</summary>
    private bool PskStillValid(Guid? keyId, byte[]? pskFingerprint)
    {
        if (keyId is not null)
        {
            return true;
        }

        var current = CurrentPskFingerprint();
        return current is not null && pskFingerprint is not null && CryptographicOperations.FixedTimeEquals(current, pskFingerprint);
    }

    private static byte[] HashSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>The registered daemon, with its last-seen time refreshed when this process last did so more than <see cref="LastSeenRefresh"/> ago.</summary>
    private async Task<DaemonRecord?> SeeAsync(Guid daemonId, CancellationToken cancellationToken)
    {
        if (_seen.TryGetValue(daemonId, out var seen) && Stopwatch.GetElapsedTime(seen.SeenAt) < LastSeenRefresh)
        {
            return seen.Daemon;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var daemon = await connection.QuerySingleOrDefaultAsync<DaemonRecord>(new CommandDefinition(
            $"""
            UPDATE provisioner_daemons SET last_seen_at = now() WHERE id = @Id
            RETURNING {DaemonColumns}
            """,
            new { Id = daemonId },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (daemon is null)
        {
            _seen.TryRemove(daemonId, out _);
            return null;
        }

        _seen[daemonId] = (daemon, Stopwatch.GetTimestamp());
        return daemon;
    }
}
