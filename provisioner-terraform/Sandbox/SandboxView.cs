using System.Collections;

namespace Provisioning.Terraform.Sandbox;

/// <summary>
/// What a sandboxed Terraform command sees of the daemon's machine, whichever sandbox runs it (bubblewrap or a job
/// container): the same paths at the same places and the same environment, so a template behaves the same in either.
/// </summary>
internal static class SandboxView
{
    /// <summary>Variables of the daemon passed on as they are: locale, time zone, proxies and CA settings a provider download may need.</summary>
    private static readonly HashSet<string> PassedThrough = new(StringComparer.Ordinal)
    {
        "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "USER", "LOGNAME",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "SSL_CERT_FILE", "SSL_CERT_DIR",
    };

    /// <summary>
    /// The paths of the daemon's machine a command needs, at their real paths: the plugin cache (read-write for
    /// <c>init</c>, which fills it; read-only for every other command), Terraform's CLI configuration and provider mirror,
    /// and the daemon user's <c>~/.terraformrc</c> and <c>~/.terraform.d</c> (read-only). The work directory comes on top.
    /// </summary>
    public static (List<string> ReadOnly, List<string> ReadWrite) Paths(TerraformOptions options, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var writesCache = arguments.Count > 0 && arguments[0] == "init";
        List<string> readOnly = [];
        List<string> readWrite = [];
        (writesCache ? readWrite : readOnly).Add(options.PluginCacheDirectory);
        if (options.CliConfigFile is { } cliConfig)
        {
            readOnly.Add(Path.GetFullPath(cliConfig));
        }

        if (options.ProviderMirrorDirectory is { } mirror)
        {
            readOnly.Add(Path.GetFullPath(mirror));
            readOnly.Add(Path.Combine(options.CacheDirectory, "provider-mirror.terraformrc"));
        }

        // Terraform's own configuration, as the daemon's user set it up (a mirror, registry credentials): builds must
        // install providers as they would unsandboxed. It is therefore readable by templates too (see decision 0005).
        if (environment.TryGetValue("TF_CLI_CONFIG_FILE", out var configFile) && configFile is { Length: > 0 } && Path.IsPathFullyQualified(configFile))
        {
            readOnly.Add(configFile);
        }
        else if (UserHome is { } home)
        {
            readOnly.Add(Path.Combine(home, ".terraformrc"));
        }

        if (UserHome is { } userHome)
        {
            readOnly.Add(Path.Combine(userHome, ".terraform.d"));
        }

        return (readOnly.Distinct(StringComparer.Ordinal).Where(Exists).ToList(), readWrite.Where(Exists).ToList());
    }

    /// <summary>
    /// The sandbox's environment: every variable of the daemon removed (null) except <see cref="PassedThrough"/> and the
    /// <c>TF_*</c> settings Terraform always got, then Terraform's environment for this run, <paramref name="path"/> and
    /// <paramref name="home"/>.
    /// </summary>
    public static Dictionary<string, string?> Environment(IReadOnlyDictionary<string, string?> terraformEnvironment, IDictionary hostEnvironment, string path, string home)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in hostEnvironment)
        {
            if (entry.Key is string name)
            {
                var kept = PassedThrough.Contains(name) || name.StartsWith("TF_", StringComparison.Ordinal);
                environment[name] = kept ? entry.Value as string : null;
            }
        }

        foreach (var (name, value) in terraformEnvironment)
        {
            environment[name] = value;
        }

        environment["PATH"] = path;
        environment["HOME"] = home;
        environment["TMPDIR"] = null;
        return environment;
    }

    private static string? UserHome =>
        System.Environment.GetEnvironmentVariable("HOME") is { Length: > 1 } home && Path.IsPathFullyQualified(home) ? home : null;

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);
}
