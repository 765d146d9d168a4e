using Provisioning.Terraform.Sandbox;

namespace Provisioning.Terraform;

/// <summary>
/// How the Terraform provisioner finds, installs and runs Terraform. Bound from the daemon's
/// configuration (e.g. <c>--terraform-path</c>) and validated at start by <see cref="TerraformOptionsValidator"/>.
/// </summary>
public sealed class TerraformOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Terraform";

    /// <summary>
    /// The Terraform (or OpenTofu <c>tofu</c>) executable. Default: none, which means <c>terraform</c>
    /// on PATH, or the installed <see cref="InstallVersion"/> when that is set.
    /// </summary>
    public string? TerraformPath { get; set; }

    /// <summary>
    /// Where installed Terraform binaries and the shared provider plugin cache live.
    /// Default: <c>$XDG_CACHE_HOME/provisioning</c> (on Linux usually <c>~/.cache/provisioning</c>).
    /// </summary>
    public string CacheDirectory { get; set; } = DefaultCacheDirectory();

    /// <summary>
    /// Skip <c>terraform init</c> when the work directory needs nothing it would install: no modules, no backend, and
    /// every provider built in or pinned by the template's lock file and already in the plugin cache (Coder's init
    /// skip; docs/decisions/0008-performance-where-users-feel-it.md). Default: true.
    /// </summary>
    public bool SkipInitWhenCached { get; set; } = true;

    /// <summary>
    /// How long Terraform may take to stop after an interrupt before it is killed. Default: 15 seconds.
    /// </summary>
    public TimeSpan InterruptGracePeriod { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A Terraform version (e.g. <c>1.11.4</c>) to install from <see cref="ReleaseBaseUrl"/> into the
    /// cache directory and use. Default: none (use <see cref="TerraformPath"/> or PATH). Cannot be
    /// combined with <see cref="TerraformPath"/>.
    /// </summary>
    public string? InstallVersion { get; set; }

    /// <summary>
    /// Where releases are downloaded from (<c>--terraform-mirror</c>): HashiCorp's release site or a mirror with its layout
    /// (<c>/terraform/{version}/terraform_{version}_SHA256SUMS</c>, <c>….sig</c> and the zips). Default: <c>https://releases.hashicorp.com</c>.
    /// </summary>
    public Uri ReleaseBaseUrl { get; set; } = new("https://releases.hashicorp.com");

    /// <summary>
    /// OpenPGP public keys (armored or binary) trusted to sign a release's SHA256SUMS (<c>--terraform-signing-key-file</c>),
    /// for a mirror that re-signs releases. Default: none, which trusts only HashiCorp's release key built into this program.
    /// </summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>
    /// A Terraform CLI configuration file (<c>.terraformrc</c>) passed as <c>TF_CLI_CONFIG_FILE</c>,
    /// e.g. with a <c>provider_installation</c> block for an air-gapped fleet. Default: none (Terraform's own lookup).
    /// </summary>
    public string? CliConfigFile { get; set; }

    /// <summary>
    /// A local provider mirror directory (the layout <c>terraform providers mirror</c> writes). When set,
    /// providers are installed only from it, never from a registry. Default: none. Cannot be combined
    /// with <see cref="CliConfigFile"/>, which can express the same and more.
    /// </summary>
    public string? ProviderMirrorDirectory { get; set; }

    /// <summary>
    /// Names of further environment variables of the daemon that Terraform must not see (a trailing
    /// <c>*</c> matches a prefix). <c>PROVISIONING_*</c> is always removed. Default: empty.
    /// </summary>
    public IList<string> StripEnvironmentVariables { get; } = new List<string>();

    /// <summary>
    /// Whether every Terraform command runs isolated from the daemon's machine (its home, other jobs, its environment, its
    /// processes): <see cref="TerraformSandboxMode.None"/>, <see cref="TerraformSandboxMode.Bubblewrap"/> or
    /// <see cref="TerraformSandboxMode.Docker"/> (required: the provisioner does not start without it) or
    /// <see cref="TerraformSandboxMode.Auto"/> (a job container, else bubblewrap, else a warning). Default: none; the daemon
    /// built into <c>provisioning server</c> uses auto. See <c>docs/decisions/0005-built-in-daemon-isolation.md</c> and
    /// <c>docs/decisions/0014-per-job-containers.md</c>.
    /// </summary>
    public TerraformSandboxMode Sandbox { get; set; } = TerraformSandboxMode.None;

    /// <summary>The bubblewrap executable for <see cref="Sandbox"/>. Default: none (<c>bwrap</c> on PATH).</summary>
    public string? BubblewrapPath { get; set; }

    /// <summary>
    /// The image of the job containers of <see cref="TerraformSandboxMode.Docker"/> (<c>--job-image</c>): Terraform on its
    /// PATH, built by <c>scripts/docker-job-image.sh</c> from <c>deploy/docker/job-image/Dockerfile</c>.
    /// Default: <c>provisioning/terraform-job:latest</c>. See <c>docs/decisions/0014-per-job-containers.md</c>.
    /// </summary>
    public string JobImage { get; set; } = DefaultJobImage;

    /// <summary>The memory limit of a job container in bytes (<c>--job-memory</c>). Default: none.</summary>
    public long? JobMemoryBytes { get; set; }

    /// <summary>How many CPUs a job container may use (<c>--job-cpus</c>, e.g. 1.5). Default: none (no limit).</summary>
    public double? JobCpus { get; set; }

    /// <summary>The Docker engine of the job containers, e.g. <c>unix:///var/run/docker.sock</c>. Default: none (<c>DOCKER_HOST</c>, else the local socket).</summary>
    public string? DockerHost { get; set; }

    /// <summary>The job image used when none is named.</summary>
    public const string DefaultJobImage = "provisioning/terraform-job:latest";

    /// <summary>The plugin cache shared by all runs (<c>TF_PLUGIN_CACHE_DIR</c>).</summary>
    public string PluginCacheDirectory => Path.Combine(CacheDirectory, "plugins");

    private static string DefaultCacheDirectory()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "provisioning");
    }
}
