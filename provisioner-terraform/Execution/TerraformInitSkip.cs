using System.Runtime.InteropServices;

using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// Coder's init skip (provisioner/terraform/initskip.go in coder/coder): <c>terraform init</c> costs a few hundred
/// milliseconds even when it has nothing to install, so a build skips it when the work directory needs nothing that
/// init would install: the template calls no modules and configures no backend, and either it needs no provider
/// beyond Terraform's built-in one (<c>terraform_data</c>), or its <c>.terraform.lock.hcl</c> pins every provider to a
/// version already in the plugin cache, which is then linked into <c>.terraform/providers</c> as init itself does with
/// <c>TF_PLUGIN_CACHE_DIR</c>. Anything unusual (JSON configuration, a file that does not parse, a provider the lock
/// does not pin) means no skip. When Terraform still says the directory needs init, the caller runs init and tries
/// again (<see cref="NeedsInit"/>). See docs/decisions/0008-performance-where-users-feel-it.md.
/// </summary>
internal static class TerraformInitSkip
{
    internal const string LockFileName = ".terraform.lock.hcl";

    /// <summary>Terraform's diagnostics that mean the work directory lacks what init installs (as Coder matches them).</summary>
    private static readonly string[] InitErrorMarkers =
    [
        "plugins are not installed",
        "cached in .terraform/providers",
        "dependency lock file",
        "module not installed",
        "module source has changed",
        "initialization required",
        "terraform init",
    ];

    /// <summary>
    /// Makes <paramref name="workDirectory"/> ready for plan without init when that is safe; returns null when it did
    /// (init may be skipped), otherwise why init must run.
    /// </summary>
    public static string? TryPrepare(string workDirectory, string pluginCacheDirectory)
    {
        if (Directory.Exists(Path.Combine(workDirectory, ".terraform")))
        {
            return "the work directory already has a .terraform directory";
        }

        var needed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(workDirectory))
        {
            var name = Path.GetFileName(path);
            if (name.EndsWith(".tf.json", StringComparison.Ordinal))
            {
                return "the template has JSON configuration files";
            }

            if (!name.EndsWith(".tf", StringComparison.Ordinal) || name.StartsWith('.'))
            {
                continue;
            }

            HclFile file;
            try
            {
                file = HclParser.Parse(File.ReadAllText(path), name);
            }
            catch (HclSyntaxException)
            {
                return "a configuration file does not parse; terraform init reports it";
            }

            if (Unskippable(file.Body, needed) is { } reason)
            {
                return reason;
            }
        }

        needed.Remove("terraform");
        var lockPath = Path.Combine(workDirectory, LockFileName);
        if (!File.Exists(lockPath))
        {
            return needed.Count == 0 ? null : "the template needs providers and has no dependency lock file";
        }

        var locked = ReadLockFile(lockPath);
        if (locked is null)
        {
            return "the dependency lock file is not one this check understands";
        }

        if (needed.Any(localName => !locked.Any(provider => provider.Source.EndsWith("/" + localName, StringComparison.Ordinal))))
        {
            return "the template uses a provider the lock file does not pin";
        }

        var platform = Platform();
        if (platform is null || locked.Any(provider => !IsCached(Path.Combine(pluginCacheDirectory, provider.Source, provider.Version, platform))))
        {
            return "a provider the lock file pins is not in the plugin cache yet";
        }

        var providersDirectory = Path.Combine(workDirectory, ".terraform", "providers");
        try
        {
            foreach (var provider in locked)
            {
                var link = Path.Combine(providersDirectory, provider.Source, provider.Version, platform);
                Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                File.CreateSymbolicLink(link, Path.GetFullPath(Path.Combine(pluginCacheDirectory, provider.Source, provider.Version, platform)));
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Init starts from a clean slate.
            Directory.Delete(Path.Combine(workDirectory, ".terraform"), recursive: true);
            return $"linking the cached providers failed ({exception.Message})";
        }

        return null;
    }

    /// <summary>Whether a failed command's message says that the work directory needs init after all.</summary>
    public static bool NeedsInit(Exception exception) =>
        exception is TerraformCommandException && InitErrorMarkers.Any(marker => exception.Message.Contains(marker, StringComparison.OrdinalIgnoreCase));

    /// <summary>Why a file's top-level blocks need init, or null; collects the providers they use into <paramref name="needed"/>.</summary>
    private static string? Unskippable(HclBody body, HashSet<string> needed)
    {
        foreach (var block in body.Blocks)
        {
            switch (block.Type)
            {
                case "module":
                    return "the template calls modules";
                case "terraform":
                    foreach (var inner in block.Body.Blocks)
                    {
                        switch (inner.Type)
                        {
                            case "backend" or "cloud":
                                return "the template configures a backend";
                            case "required_providers":
                                needed.UnionWith(inner.Body.Attributes.Select(attribute => attribute.Name));
                                break;
                        }
                    }

                    break;
                case "provider" when block.Labels is [var name, ..]:
                    needed.Add(name);
                    break;
                case "resource" or "data" or "ephemeral" when block.Labels is [var type, ..]:
                    if (block.Body.Attribute("provider") is not null)
                    {
                        return "a resource names its provider configuration";
                    }

                    // Terraform's rule without a provider argument: the type's prefix up to the first underscore.
                    var underscore = type.IndexOf('_', StringComparison.Ordinal);
                    needed.Add(underscore < 0 ? type : type[..underscore]);
                    break;
            }
        }

        return null;
    }

    /// <summary>The providers a lock file pins (source address and exact version), or null when it holds anything unexpected.</summary>
    private static List<(string Source, string Version)>? ReadLockFile(string path)
    {
        HclFile file;
        try
        {
            file = HclParser.Parse(File.ReadAllText(path), LockFileName);
        }
        catch (HclSyntaxException)
        {
            return null;
        }

        var providers = new List<(string, string)>();
        foreach (var block in file.Body.Blocks)
        {
            if (block.Type != "provider" || block.Labels is not [var source]
                || block.Body.Attribute("version")?.Expression is not HclTemplateExpression { LiteralValue: { Length: > 0 } version }
                || source.Count(character => character == '/') != 2 || source.Contains("..", StringComparison.Ordinal)
                || version.Contains('/', StringComparison.Ordinal) || version.Contains("..", StringComparison.Ordinal))
            {
                return null;
            }

            providers.Add((source, version));
        }

        return providers;
    }

    private static bool IsCached(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateFiles(directory, "terraform-provider-*").Any();

    /// <summary>Terraform's platform name (GOOS_GOARCH) of this machine, or null where the skip is not attempted.</summary>
    private static string? Platform()
    {
        var os = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : null;
        var architecture = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            _ => null,
        };
        return os is null || architecture is null ? null : $"{os}_{architecture}";
    }
}
