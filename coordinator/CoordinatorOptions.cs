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
    /// Where the daemon gRPC service listens (HTTP/2 only). With TLS it may be the same address as
    /// <see cref="HttpAddress"/>, ALPN then serving both on one port; in cleartext it must be another port.
    /// Default: http://127.0.0.1:3001.
    /// </summary>
    public string GrpcAddress { get; set; } = "http://127.0.0.1:3001";

    /// <summary>
    /// PEM certificate (chain) served on <see cref="HttpAddress"/> when it is https, and on the daemons' gRPC
    /// listener unless <see cref="GrpcTlsCertFile"/> names another. Required for an https address.
    /// </summary>
    public string? TlsCertFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/>; empty when the certificate file holds the key too.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>PEM certificate of a separate https <see cref="GrpcAddress"/>; default: <see cref="TlsCertFile"/>.</summary>
    public string? GrpcTlsCertFile { get; set; }

    /// <summary>PEM private key of <see cref="GrpcTlsCertFile"/>; empty when the certificate file holds the key too.</summary>
    public string? GrpcTlsKeyFile { get; set; }

    /// <summary>
    /// PEM certificate authorities whose client certificates the TLS listeners require (mutual TLS): every
    /// daemon and CLI must then present a certificate issued by one of them. Empty (the default): no client
    /// certificate is asked for.
    /// </summary>
    public string? TlsClientCaFile { get; set; }

    /// <summary>
    /// Where an anonymous Prometheus <c>/metrics</c> listens (host:port), for a scraper on a trusted network. On
    /// the REST address <c>/metrics</c> needs an admin's token, because it reads the whole fleet's queue. Empty (the
    /// default): only the admin-only one.
    /// </summary>
    public string? MetricsAddress { get; set; }

    /// <summary>Whether the REST API is served over TLS.</summary>
    public bool HttpUsesTls => HttpAddress.StartsWith("https:", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether the daemons' gRPC service has a listener of its own: always in cleartext (Kestrel speaks
    /// cleartext HTTP/2 only on an HTTP/2-only endpoint), with TLS only when <see cref="GrpcAddress"/> names
    /// another port than <see cref="HttpAddress"/> (else ALPN serves both on one port).
    /// </summary>
    public bool HasSeparateGrpcListener =>
        !Uri.TryCreate(HttpAddress, UriKind.Absolute, out var http) || !Uri.TryCreate(GrpcAddress, UriKind.Absolute, out var grpc)
        || !(http.Host == grpc.Host && http.Port == grpc.Port);

    /// <summary>The gRPC address daemons are told to use (<c>/api/v1/buildinfo</c>): the separate listener, else the REST address.</summary>
    public string AdvertisedGrpcAddress => HasSeparateGrpcListener ? GrpcAddress : HttpAddress;

    internal static string DefaultHomeDirectory() =>
        Environment.GetEnvironmentVariable("PROVISIONING_HOME") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "provisioning");
}
