namespace Provisioning.Coordinator;

/// <summary>
/// Settings of the coordinator, bound from the "Coordinator" configuration section (and the
/// `provisioning server` flags) and validated at start by <see cref="CoordinatorOptionsValidator"/>.
/// </summary>
public sealed class CoordinatorOptions
{
    public const string SectionName = "Coordinator";

    /// <summary>
    /// PostgreSQL to use, as a URL (<c>postgres://user:password@host:5432/db</c>) or an Npgsql connection
    /// string. Empty (the default): the built-in PostgreSQL under <see cref="HomeDirectory"/>.
    /// </summary>
    public string? PostgresUrl { get; set; }

    /// <summary>
    /// Where the coordinator keeps its state (the built-in PostgreSQL cluster among it). Default:
    /// $PROVISIONING_HOME, else ~/.config/provisioning.
    /// </summary>
    public string HomeDirectory { get; set; } = DefaultHomeDirectory();

    /// <summary>A running job with no update (heartbeat) for this long is failed as hung. Default: 5 minutes.</summary>
    public TimeSpan JobHangTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A job still pending after this long is failed, saying no daemon took it. Default: 30 minutes.</summary>
    public TimeSpan JobPendingTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A daemon not seen for this long (and holding no job) is removed from the daemon list. Default: 7 days.</summary>
    public TimeSpan DaemonRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Logs of a job that ended longer ago than this are deleted by the maintenance job (the job, its
    /// build and its state stay). Zero keeps logs forever. Default: 30 days.
    /// </summary>
    public TimeSpan JobLogRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// A stored file (template archive, state) that no job, version or unfinished build refers to is deleted once
    /// it is older than this. Default: 1 day (an upload waits that long for the version that will use it).
    /// </summary>
    public TimeSpan UnreferencedFileRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Log output kept per job, in bytes (<c>provisioning server --max-job-log-size</c>). From the first line
    /// past it, the job's lines are counted instead of stored, the job is marked logs_overflowed, and its
    /// log ends with one line saying how many lines and bytes were left out; the build never fails because
    /// of it. At least <see cref="MinJobLogBytes"/>. Default: 16 MiB.
    /// </summary>
    public long MaxJobLogBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The smallest <see cref="MaxJobLogBytes"/> accepted: small enough for tests, large enough for a few lines.</summary>
    public const long MinJobLogBytes = 1024;

    /// <summary>Largest file (template archive, state) accepted, in bytes. Default: 64 MiB.</summary>
    public long MaxUploadBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Pre-shared key daemons may authenticate with instead of a provisioner key. Empty (the default):
    /// only provisioner keys are accepted.
    /// </summary>
    public string? ProvisionerPsk { get; set; }

    /// <summary>Where the REST API listens. Default: http://127.0.0.1:3000.</summary>
    public string HttpAddress { get; set; } = "http://127.0.0.1:3000";

    /// <summary>
    /// Where the daemon gRPC service listens when the REST API is cleartext (Kestrel serves cleartext
    /// HTTP/2 only on an HTTP/2-only endpoint). Default: http://127.0.0.1:3001.
    /// </summary>
    public string GrpcAddress { get; set; } = "http://127.0.0.1:3001";

    internal static string DefaultHomeDirectory() =>
        Environment.GetEnvironmentVariable("PROVISIONING_HOME") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "provisioning");
}
