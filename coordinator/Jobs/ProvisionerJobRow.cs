namespace Provisioning.Coordinator.Jobs;

/// <summary>What Dapper reads from provisioner_jobs (snake_case columns, timestamps as UTC DateTime), before mapping.</summary>
internal class ProvisionerJobRow
{
    public const string Columns =
        "id, type, provisioner, tags::text AS tags, queue, input::text AS input, file_hash, initiator_id, worker_id, hangfire_job_id, "
        + "created_at, updated_at, started_at, canceled_at, completed_at, error, error_code, logs_length, logs_overflowed, status";

    /// <summary><see cref="Columns"/> qualified by <paramref name="alias"/>, for statements that join provisioner_jobs with other tables.</summary>
    public static string QualifiedColumns(string alias) =>
        string.Join(", ", Columns.Split(", ").Select(column => $"{alias}.{column}"));

    public Guid Id { get; set; }

    public string Type { get; set; } = string.Empty;

    public string Provisioner { get; set; } = string.Empty;

    public string Tags { get; set; } = "{}";

    public string Queue { get; set; } = string.Empty;

    public string Input { get; set; } = "{}";

    public string? FileHash { get; set; }

    public Guid? InitiatorId { get; set; }

    public Guid? WorkerId { get; set; }

    public string? HangfireJobId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? CanceledAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    public string? Error { get; set; }

    public string? ErrorCode { get; set; }

    public long LogsLength { get; set; }

    public bool LogsOverflowed { get; set; }

    public string Status { get; set; } = string.Empty;

    public ProvisionerJob ToJob() => new(
        Id,
        ProvisionerJobTypes.Parse(Type),
        Provisioner,
        ProvisionerTags.FromJson(Tags),
        Queue,
        Input,
        FileHash,
        InitiatorId,
        WorkerId,
        HangfireJobId,
        Utc(CreatedAt),
        Utc(UpdatedAt),
        StartedAt is { } started ? Utc(started) : null,
        CanceledAt is { } canceled ? Utc(canceled) : null,
        CompletedAt is { } completed ? Utc(completed) : null,
        Error,
        ErrorCode,
        LogsLength,
        LogsOverflowed,
        ProvisionerJobStatuses.Parse(Status));

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
