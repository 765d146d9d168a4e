using Provisioning.Terraform.Sandbox;

namespace Provisioning.Daemon;

/// <summary>
/// Settings of a provisioner daemon (<c>provisioning provisioner start</c>). Bound from the
/// <c>ProvisionerDaemon</c> configuration section and command-line flags, validated at start by
/// <see cref="ProvisionerDaemonOptionsValidator"/>.
/// </summary>
public sealed class ProvisionerDaemonOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "ProvisionerDaemon";

    /// <summary>The most slots a daemon may run; more belongs on another daemon.</summary>
    public const int MaxSlots = 64;

    /// <summary>
    /// The coordinator's gRPC address, e.g. <c>http://coordinator:8081</c> or <c>https://coordinator</c>.
    /// Required (<c>--url</c>).
    /// </summary>
    public Uri? CoordinatorUrl { get; set; }

    /// <summary>
    /// How the daemon checks an https coordinator and proves itself (<c>--tls-ca-file</c>, <c>--tls-client-cert-file</c>,
    /// <c>--tls-client-key-file</c>). Default: the system's roots, no client certificate.
    /// </summary>
    public Coordinator.CoordinatorClientTls Tls { get; set; } = Coordinator.CoordinatorClientTls.None;

    /// <summary>
    /// A provisioner key (<c>--key</c>); the daemon then gets the key's tags. Default: none.
    /// Exactly one of this and <see cref="PreSharedKey"/> is required.
    /// </summary>
    public string? ProvisionerKey { get; set; }

    /// <summary>A pre-shared key (<c>--psk</c>); the daemon then declares <see cref="Tags"/> itself. Default: none.</summary>
    public string? PreSharedKey { get; set; }

    /// <summary>Tags the daemon declares (<c>--tag key=value</c>); refused together with a provisioner key. Default: none.</summary>
    public IDictionary<string, string> Tags { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Provisioner binaries the daemon starts, supervises and offers besides Terraform (<c>--provisioner NAME=PATH</c>,
    /// repeatable): type name to executable, run as <c>PATH --socket SOCKET</c> and spoken to over <c>provisioner.proto</c>
    /// (<see cref="ProcessDaemonProvisioner"/>). A binary named <c>terraform</c> replaces the built-in Terraform. Default: none.
    /// </summary>
    public IDictionary<string, string> ProvisionerBinaries { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The daemon's name, unique in the fleet (<c>--name</c>). Default: the host name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>How many jobs run at once (<c>--slots</c>), 1 to <see cref="MaxSlots"/>. Default: 1.</summary>
    public int Slots { get; set; } = 1;

    /// <summary>
    /// Where job work directories, installed Terraform and the provider cache live (<c>--cache-dir</c>).
    /// Default: <c>$XDG_CACHE_HOME/provisioning</c>, usually <c>~/.cache/provisioning</c>.
    /// </summary>
    public string CacheDirectory { get; set; } = DefaultCacheDirectory();

    /// <summary>The Terraform (or OpenTofu) executable (<c>--terraform-path</c>). Default: none (<c>terraform</c> on PATH).</summary>
    public string? TerraformPath { get; set; }

    /// <summary>
    /// A Terraform version to install into the cache directory when missing and use (<c>--terraform-version</c>), verified
    /// against HashiCorp's signature. Default: none (<see cref="TerraformPath"/> or PATH).
    /// </summary>
    public string? TerraformVersion { get; set; }

    /// <summary>Where <see cref="TerraformVersion"/> is downloaded from (<c>--terraform-mirror</c>). Default: HashiCorp's release site.</summary>
    public Uri? TerraformMirror { get; set; }

    /// <summary>OpenPGP public keys trusted to sign the mirror's releases (<c>--terraform-signing-key-file</c>). Default: HashiCorp's key.</summary>
    public string? TerraformSigningKeyFile { get; set; }

    /// <summary>
    /// A directory of providers in the layout <c>terraform providers mirror</c> writes (<c>--provider-mirror</c>): Terraform then
    /// installs providers only from it, never from a registry (air-gapped sites). Default: none.
    /// </summary>
    public string? ProviderMirrorDirectory { get; set; }

    /// <summary>A Terraform CLI configuration file (<c>--terraform-cli-config</c>, <c>TF_CLI_CONFIG_FILE</c>): mirrors, registry credentials. Default: none.</summary>
    public string? TerraformCliConfigFile { get; set; }

    /// <summary>
    /// How Terraform is isolated (<c>--isolation none|bubblewrap|docker|auto</c>, formerly <c>--sandbox</c>); see
    /// <c>docs/decisions/0005-built-in-daemon-isolation.md</c> and <c>0014-per-job-containers.md</c>. Default: none for a standalone daemon; the daemon built
    /// into <c>provisioning server</c> uses auto.
    /// </summary>
    public TerraformSandboxMode Sandbox { get; set; } = TerraformSandboxMode.None;

    /// <summary>The bubblewrap executable (<c>--bwrap-path</c>). Default: none (<c>bwrap</c> on PATH).</summary>
    public string? BubblewrapPath { get; set; }

    /// <summary>The image of the job containers (<c>--job-image</c>) when <see cref="Sandbox"/> is docker or auto; see <c>docs/decisions/0014-per-job-containers.md</c>.</summary>
    public string JobImage { get; set; } = Provisioning.Terraform.TerraformOptions.DefaultJobImage;

    /// <summary>The memory limit of a job container in bytes (<c>--job-memory</c>). Default: none.</summary>
    public long? JobMemoryBytes { get; set; }

    /// <summary>The CPUs a job container may use (<c>--job-cpus</c>). Default: none (no limit).</summary>
    public double? JobCpus { get; set; }

    /// <summary>Whether the daemon's own logs are JSON lines (<c>--log-json</c>). Default: false (human-readable).</summary>
    public bool LogJson { get; set; }

    /// <summary>Where Prometheus metrics are served, e.g. <c>127.0.0.1:2112</c> (<c>--metrics-address</c>). Default: none (off).</summary>
    public string? MetricsAddress { get; set; }

    /// <summary>Where <c>/healthz</c> and <c>/readyz</c> are served, e.g. <c>0.0.0.0:8080</c> (<c>--health-address</c>). Default: none (off).</summary>
    public string? HealthAddress { get; set; }

    /// <summary>How long a running job may go without any UpdateJob before an empty one is sent as a heartbeat. Default: 5 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When the last running job ends, collect garbage aggressively and trim the C library's heap so that an idle
    /// daemon returns the memory its builds grew to (a pause of a few milliseconds while no job runs). Default: true.
    /// </summary>
    public bool CompactMemoryWhenIdle { get; set; } = true;

    /// <summary>Buffered job logs are sent after this much quiet. Default: 250 ms.</summary>
    public TimeSpan LogFlushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Buffered job logs are sent as soon as this many lines wait, and no request carries more (nor more than about
    /// 1 MB of output). Default: 2,000: one request is sent at a time, so the batch size bounds a chatty build's log
    /// throughput (docs/decisions/0008-performance-where-users-feel-it.md).
    /// </summary>
    public int LogFlushLines { get; set; } = 2000;

    /// <summary>
    /// How long a canceled job may take to stop before the daemon fails it itself as canceled.
    /// Should exceed Terraform's interrupt grace period (15 s). Default: 60 seconds.
    /// </summary>
    public TimeSpan ForceCancelTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// After a shutdown began, how long running jobs and their terminal reports may take before the
    /// daemon gives up on them. A report not acknowledged by then stays spooled (with its state) and is
    /// sent again at the next start. Default: 2 minutes.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a drain (SIGTERM) lets running jobs finish (<c>--drain-timeout</c>); after it they are canceled
    /// gracefully, as with SIGINT, and their (partial) states reported. Default: 2 hours.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// The longest a host must wait for the daemon to stop after a drain began: the drain timeout, then the
    /// shutdown timeout for canceled jobs and their reports, plus a margin. The host's shutdown timeout is
    /// raised to at least this (see <see cref="Hosting.ProvisionerDaemonHostingExtensions.AddProvisionerDaemon"/>).
    /// </summary>
    public TimeSpan StopTimeout => DrainTimeout + ShutdownTimeout + StopMargin;

    /// <summary>Slack between the daemon's own deadlines and the host's, so the host never cuts the daemon off first.</summary>
    internal static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(15);

    /// <summary>The first wait before reconnecting to an unreachable coordinator; doubled per attempt, with jitter. Default: 1 second.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between reconnection attempts. Default: 30 seconds.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many log lines of one job are kept while the coordinator is unreachable; beyond that the
    /// oldest are dropped and one line says how many. Default: 10,000.
    /// </summary>
    public int OfflineLogBufferLines { get; set; } = 10_000;

    /// <summary>States larger than this are sent with UploadFile instead of inline. Default: 1 MiB.</summary>
    public int InlineStateLimitBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The directory under <see cref="CacheDirectory"/> where each job of this daemon gets its work
    /// directory; per daemon name, so daemons sharing a cache never remove each other's work.
    /// </summary>
    public string JobsDirectory => Path.Combine(CacheDirectory, "jobs", SafeDirectoryName(Name));

    /// <summary>
    /// Where this daemon keeps terminal reports (and their states) until the coordinator acknowledged them;
    /// re-sent at start. Per daemon name: only the daemon that held a job can report it.
    /// </summary>
    public string ReportsDirectory => Path.Combine(CacheDirectory, "reports", SafeDirectoryName(Name));

    /// <summary>Where this daemon keeps reports and states the coordinator refused for good, for an operator; never deleted by the daemon.</summary>
    public string UnacceptedDirectory => Path.Combine(CacheDirectory, "unaccepted", SafeDirectoryName(Name));

    /// <summary>A name made safe as one path segment: other characters become '_', long names a hash.</summary>
    internal static string SafeDirectoryName(string name)
    {
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        return safe.Length is > 0 and <= 100 && safe.Trim('.').Length > 0
            ? safe
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));
    }

    private static string DefaultCacheDirectory()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "provisioning");
    }
}
