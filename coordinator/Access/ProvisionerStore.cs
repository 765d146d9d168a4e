using Dapper;

using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Api.Provisioners;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// The daemons (template admins read them) and provisioner keys (admins only), for a caller. A daemon is offline
/// when it has not called for as long as a running job may go without a heartbeat (--job-hang-timeout).
/// </summary>
internal sealed class ProvisionerStore(NpgsqlDataSource dataSource, ProvisionerKeyStore keys, DaemonRevocation revocation, IOptions<CoordinatorOptions> options)
{
    public async Task<IReadOnlyList<ProvisionerDaemonResponse>> ListDaemonsAsync(ApiUser caller, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.TemplateAdmin);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            """
            SELECT d.id, d.name, d.tags::text AS tags, d.provisioners, d.version, d.slots, d.created_at, d.last_seen_at, k.name AS key_name,
                   d.last_seen_at > now() - @OfflineAfter AS online,
                   coalesce((SELECT array_agg(j.id ORDER BY j.started_at) FROM provisioner_jobs j
                             WHERE j.worker_id = d.id AND j.started_at IS NOT NULL AND j.completed_at IS NULL), '{}') AS current_jobs
            FROM provisioner_daemons d LEFT JOIN provisioner_keys k ON k.id = d.key_id
            -- A revoked daemon is gone from the fleet (it may only still report the jobs it held).
            WHERE d.revoked_at IS NULL
            ORDER BY d.name
            """,
            new { OfflineAfter = options.Value.JobHangTimeout }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => new ProvisionerDaemonResponse(
            row.Id,
            row.Name,
            ProvisionerTags.FromJson(row.Tags),
            row.Provisioners,
            row.Version,
            row.Slots,
            row.CurrentJobs.Length > 0 ? "busy" : row.Online ? "idle" : "offline",
            row.CurrentJobs,
            row.CurrentJobs.Length > 0 ? row.CurrentJobs[0] : null,
            row.KeyName,
            row.CreatedAt,
            row.LastSeenAt))];
    }

    /// <summary>
    /// The last hour, minute by minute: how many jobs were pending at the end of each minute and how many ended in it
    /// (the fleet page's chart; template admins, as the daemons). Read from the ledger's timestamps, so every replica
    /// answers the same and nothing is sampled.
    /// </summary>
    public async Task<IReadOnlyList<QueueHistoryPoint>> GetQueueHistoryAsync(ApiUser caller, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.TemplateAdmin);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(DateTime Minute, int Depth, int Completed)>(new CommandDefinition(
            """
            WITH hour AS (SELECT date_trunc('minute', now()) - interval '59 minutes' AS since),
            touched AS (
                -- Jobs pending at some moment of the hour or ended in it: still pending, or created, started or ended since.
                SELECT j.created_at, j.started_at, j.canceled_at, j.completed_at FROM provisioner_jobs j, hour
                WHERE j.created_at >= hour.since OR j.started_at >= hour.since OR j.completed_at >= hour.since OR j.canceled_at >= hour.since
                   OR (j.started_at IS NULL AND j.completed_at IS NULL AND j.canceled_at IS NULL))
            SELECT m.minute,
                   count(t.created_at) FILTER (WHERE t.created_at <= m.edge AND (t.started_at IS NULL OR t.started_at > m.edge)
                       AND (t.completed_at IS NULL OR t.completed_at > m.edge) AND (t.canceled_at IS NULL OR t.canceled_at > m.edge))::int AS depth,
                   count(t.created_at) FILTER (WHERE t.completed_at >= m.minute AND t.completed_at < m.minute + interval '1 minute')::int AS completed
            FROM hour, generate_series(hour.since, date_trunc('minute', now()), interval '1 minute') AS g(minute)
            CROSS JOIN LATERAL (SELECT g.minute AS minute, least(g.minute + interval '1 minute', now()) AS edge) m
            LEFT JOIN touched t ON true
            GROUP BY m.minute ORDER BY m.minute
            """,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => new QueueHistoryPoint(row.Minute, row.Depth, row.Completed))];
    }

    public async Task<CreatedProvisionerKeyResponse> CreateKeyAsync(ApiUser caller, CreateProvisionerKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        AccessPolicy.RequireRole(caller, ApiRoles.Admin);
        var name = request.Name?.Trim() ?? string.Empty;
        if (!ApiNames.IsValid(name))
        {
            throw ApiProblemException.Invalid("name", $"'{name}' is not a valid key name: {ApiNames.Rule}.");
        }

        IReadOnlyDictionary<string, string> tags;
        try
        {
            tags = ProvisionerTags.Canonicalize(request.Tags);
        }
        catch (ArgumentException exception)
        {
            throw ApiProblemException.Invalid("tags", exception.Message.Split(" (Parameter", 2)[0]);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (await FindKeyAsync(connection, name, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw ApiProblemException.Conflict($"A provisioner key named '{name}' exists already: delete it first or choose another name.");
        }

        var key = await keys.CreateAsync(name, tags, cancellationToken).ConfigureAwait(false);
        var created = await FindKeyAsync(connection, name, cancellationToken).ConfigureAwait(false);
        return new CreatedProvisionerKeyResponse(created!, key);
    }

    public async Task<IReadOnlyList<ProvisionerKeyResponse>> ListKeysAsync(ApiUser caller, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Admin);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(Guid Id, string Name, string Tags, DateTime CreatedAt)>(new CommandDefinition(
            "SELECT id, name, tags::text, created_at FROM provisioner_keys ORDER BY name", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows.Select(row => new ProvisionerKeyResponse(row.Id, row.Name, ProvisionerTags.FromJson(row.Tags), row.CreatedAt))];
    }

    /// <summary>Revokes a key: its daemons take no more work and their running jobs are canceled (<see cref="DaemonRevocation"/>).</summary>
    public async Task DeleteKeyAsync(ApiUser caller, string name, CancellationToken cancellationToken = default)
    {
        AccessPolicy.RequireRole(caller, ApiRoles.Admin);
        if (!await revocation.RevokeKeyAsync(name, cancellationToken).ConfigureAwait(false))
        {
            throw ApiProblemException.NotFound($"No provisioner key is named '{name}'.");
        }
    }

    private static async Task<ProvisionerKeyResponse?> FindKeyAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(Guid Id, string Name, string Tags, DateTime CreatedAt)>(new CommandDefinition(
            "SELECT id, name, tags::text, created_at FROM provisioner_keys WHERE lower(name) = lower(@Name)", new { Name = name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row.Id == Guid.Empty ? null : new ProvisionerKeyResponse(row.Id, row.Name, ProvisionerTags.FromJson(row.Tags), row.CreatedAt);
    }

    private sealed class Row
    {
        public Guid Id { get; set; }

        public string Name { get; set; } = string.Empty;

        public string Tags { get; set; } = "{}";

        public string[] Provisioners { get; set; } = [];

        public string Version { get; set; } = string.Empty;

        public int Slots { get; set; }

        public DateTime CreatedAt { get; set; }

        public DateTime LastSeenAt { get; set; }

        public string? KeyName { get; set; }

        public bool Online { get; set; }

        public Guid[] CurrentJobs { get; set; } = [];
    }
}
