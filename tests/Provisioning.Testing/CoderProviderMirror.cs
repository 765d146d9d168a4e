using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Provisioning.Testing;

/// <summary>
/// A Terraform filesystem mirror (the unpacked layout <c>terraform providers mirror</c> understands) holding the test
/// provider (tests/Provisioning.TestProvider) as <c>registry.terraform.io/coder/coder</c> version
/// <see cref="Version"/>, so <c>terraform init</c> installs it as it would the real provider, and writes a lock file.
/// Give the directory to the daemon as <c>Terraform:ProviderMirrorDirectory</c> (the product's general mirror option,
/// which also makes it readable in the bubblewrap sandbox), or use <see cref="WriteCliConfig"/> to run Terraform by hand.
/// Every other provider is then unavailable (offline anyway): templates use built-in <c>terraform_data</c>.
/// </summary>
public sealed class CoderProviderMirror : IDisposable
{
    /// <summary>The version of coder/terraform-provider-coder whose schema the test provider serves.</summary>
    public const string Version = "2.17.0";

    private static readonly Lazy<CoderProviderMirror> SharedMirror = new(() =>
    {
        var mirror = Create();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => mirror.Dispose();
        return mirror;
    });

    private CoderProviderMirror(string directory)
    {
        Directory = directory;
    }

    /// <summary>The mirror's root directory.</summary>
    public string Directory { get; }

    /// <summary>Where the test provider was built (it is built before any test project that references Provisioning.Testing).</summary>
    public static string BuildDirectory { get; } = typeof(CoderProviderMirror).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "TestProviderDirectory").Value!;

    /// <summary>Terraform's name for this machine's platform.</summary>
    public static string Platform => "linux_" + (RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64");

    /// <summary>
    /// One mirror for the whole test process, removed when it exits: Terraform's plugin cache links to the mirror it
    /// installed from, so tests sharing a cache directory must share the mirror too.
    /// </summary>
    public static CoderProviderMirror Shared => SharedMirror.Value;

    /// <summary>Lays out a new mirror in a temporary directory (readable by all, as the sandbox may need).</summary>
    public static CoderProviderMirror Create()
    {
        var executable = Path.Combine(BuildDirectory, "Provisioning.TestProvider");
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException($"The test provider is not built at {BuildDirectory}: build tests/Provisioning.TestProvider (the test build does).", executable);
        }

        var root = System.IO.Directory.CreateTempSubdirectory("provisioning-coder-mirror-").FullName;
        var package = Path.Combine(root, "registry.terraform.io", "coder", "coder", Version, Platform);
        System.IO.Directory.CreateDirectory(package);
        foreach (var file in System.IO.Directory.EnumerateFiles(BuildDirectory))
        {
            if (Path.GetFileName(file) != "Provisioning.TestProvider")
            {
                File.Copy(file, Path.Combine(package, Path.GetFileName(file)));
            }
        }

        // Terraform runs the file named terraform-provider-<type>…; the .NET app host finds its .dll beside itself.
        File.Copy(executable, Path.Combine(package, $"terraform-provider-coder_v{Version}"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        }

        return new CoderProviderMirror(root);
    }

    /// <summary>Writes a Terraform CLI configuration that installs providers from this mirror only; returns its path (for TF_CLI_CONFIG_FILE).</summary>
    public string WriteCliConfig(string path)
    {
        File.WriteAllText(path, $"provider_installation {{\n  filesystem_mirror {{\n    path = {JsonSerializer.Serialize(Directory)}\n  }}\n}}\n");
        return path;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A provider process may still be ending; the temporary folder is cleaned by the OS.
        }
    }
}
