using Dapper;

using Microsoft.Extensions.Logging;

using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Daemons;

/// <summary>
/// Revoking a provisioner key: the one place that says what happens to the key's daemons (docs/architecture.md, trust boundaries). In one
/// transaction the key is deleted, its daemons are marked revoked (their sessions can take no more work; the
/// claim statement refuses them at once), and the jobs they run are canceled, with a line in each job's log.
/// A revoked daemon learns of the cancel from its next heartbeat, stops Terraform gracefully and may still
/// report the (partial) state it holds, so a revocation never loses a state. Its acquisition streams end at
/// once on this replica and within <see cref="DaemonStreams.CheckInterval"/> on the others.
/// </summary>
public sealed partial class DaemonRevocation(ProvisionerJobQueue queue, DaemonStreams streams, ILogger<DaemonRevocation> logger)
{
    /// <summary>Revokes the key named <paramref name="keyName"/>; false when there is none.</summary>
    public async Task<bool> RevokeKeyAsync(string keyName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyName);
        await using var connection = await queue.Ledger.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var keyId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT id FROM provisioner_keys WHERE lower(name) = lower(@Name) FOR UPDATE",
            new { Name = keyName.Trim() },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (keyId is null)
        {
            return false;
        }

        var daemons = (await connection.QueryAsync<(Guid Id, string Name)>(new CommandDefinition(
            "UPDATE provisioner_daemons SET revoked_at = now() WHERE key_id = @KeyId AND revoked_at IS NULL RETURNING id, name",
            new { KeyId = keyId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var jobs = await connection.QueryAsync<(Guid JobId, string Daemon)>(new CommandDefinition(
            """
            SELECT j.id, d.name FROM provisioner_jobs j JOIN provisioner_daemons d ON d.id = j.worker_id
            WHERE d.key_id = @KeyId AND j.completed_at IS NULL
            """,
            new { KeyId = keyId },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var (jobId, daemon) in jobs)
        {
            await queue.CancelAsync(connection, transaction, jobId, cancellationToken).ConfigureAwait(false);
            await JobLogWriter.AppendNoticeAsync(
                connection, transaction, jobId, "warn",
                $"The provisioner key '{keyName}' of daemon {daemon} was revoked: the job is canceled. The daemon may still report the state it holds.",
                cancellationToken).ConfigureAwait(false);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM provisioner_keys WHERE id = @KeyId", new { KeyId = keyId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        streams.EndStreams([.. daemons.Select(daemon => daemon.Id)]);
        LogRevoked(logger, keyName, daemons.Count, jobs.Count());
        return true;
    }

    [LoggerMessage(EventId = 620, Level = LogLevel.Warning, Message = "Provisioner key {Key} revoked: {Daemons} daemon(s) can take no more jobs, {Jobs} running job(s) canceled")]
    private static partial void LogRevoked(ILogger logger, string key, int daemons, int jobs);
}
