using System.Collections.Concurrent;

using Dapper;

using Npgsql;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// What a provisioner job is, in words, for the Hangfire dashboard's job names: every Hangfire job of a provisioner
/// job names <see cref="ProvisionerJobMarker.Run"/>, which says nothing, so the dashboard shows e.g.
/// "workspace_build: start alice/dev #3 (template docker v2)" or "template_version_import: docker v2" instead.
/// A job's type, template and workspace never change, so descriptions are kept (up to <see cref="CacheLimit"/>).
/// </summary>
internal sealed class ProvisionerJobDescriptions(NpgsqlDataSource dataSource)
{
    private const int CacheLimit = 10_000;

    private readonly ConcurrentDictionary<Guid, string> _cache = new();

    /// <summary>
    /// The job's description. Synchronous because Hangfire's dashboard asks for display names synchronously while it
    /// renders a page (one indexed read per job not seen before).
    /// </summary>
    public string Describe(Guid jobId)
    {
        if (_cache.TryGetValue(jobId, out var known))
        {
            return known;
        }

        using var connection = dataSource.OpenConnection();
        var rows = connection.Query<(string Type, string? Template, string? Version, string? Owner, string? Workspace, int? Build, string? Transition)>(
            """
            SELECT j.type, t.name, tv.name, u.username, w.name, b.build_number, b.transition
            FROM provisioner_jobs j
            LEFT JOIN workspace_builds b ON b.job_id = j.id
            LEFT JOIN workspaces w ON w.id = b.workspace_id
            LEFT JOIN users u ON u.id = w.owner_id
            LEFT JOIN template_versions tv ON tv.id = b.template_version_id OR (b.id IS NULL AND tv.job_id = j.id)
            LEFT JOIN templates t ON t.id = tv.template_id
            WHERE j.id = @JobId
            """,
            new { JobId = jobId }).AsList();
        if (rows.Count == 0)
        {
            return $"provisioner job {jobId} (no longer in the ledger)";
        }

        var row = rows[0];
        var description = row.Workspace is not null
            ? $"{row.Type}: {row.Transition} {row.Owner}/{row.Workspace} #{row.Build} (template {row.Template} {row.Version})"
            : row.Template is not null ? $"{row.Type}: {row.Template} {row.Version}" : $"{row.Type} {jobId}";
        if (_cache.Count >= CacheLimit)
        {
            _cache.Clear();
        }

        _cache[jobId] = description;
        return description;
    }
}
