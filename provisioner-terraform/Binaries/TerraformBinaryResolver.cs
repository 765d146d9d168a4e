using System.ComponentModel;
using System.Text.Json;

using CliWrap;
using CliWrap.Buffered;

using Microsoft.Extensions.Logging;

namespace Provisioning.Terraform.Binaries;

/// <summary>
/// Finds the Terraform binary to run: the installed <see cref="TerraformOptions.InstallVersion"/>, else
/// <see cref="TerraformOptions.TerraformPath"/>, else <c>terraform</c> on PATH; and checks its version.
/// The answer is computed once and shared by every run of this daemon.
/// </summary>
public sealed class TerraformBinaryResolver
{
    private static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(30);

    private readonly TerraformOptions _options;
    private readonly TerraformInstaller _installer;
    private readonly ILogger<TerraformBinaryResolver> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TerraformBinary? _resolved;

    public TerraformBinaryResolver(TerraformOptions options, TerraformInstaller installer, ILogger<TerraformBinaryResolver> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(installer);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _installer = installer;
        _logger = logger;
    }

    /// <summary>Resolves and checks the binary; throws <see cref="TerraformBinaryException"/> when none fits.</summary>
    public async Task<TerraformBinary> ResolveAsync(CancellationToken cancellationToken = default)
    {
        if (_resolved is { } known)
        {
            return known;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_resolved is { } raced)
            {
                return raced;
            }

            string path;
            if (_options.InstallVersion is { } version)
            {
                path = await _installer.InstallAsync(Version.Parse(version), cancellationToken).ConfigureAwait(false);
            }
            else if (_options.TerraformPath is { } configured)
            {
                path = Path.GetFullPath(configured);
            }
            else
            {
                path = FindOnPath("terraform") ?? throw new TerraformBinaryException(
                    "terraform was not found on PATH. Install Terraform " + TerraformVersionRange.Description +
                    ", pass its location with --terraform-path (an OpenTofu 'tofu' binary works too), or set Terraform:InstallVersion to have it installed.");
            }

            var binary = await InspectAsync(path, cancellationToken).ConfigureAwait(false);
            if (!TerraformVersionRange.IsSupported(binary.Version))
            {
                throw new TerraformBinaryException(
                    $"{binary.Flavor} {binary.Version} at {binary.Path} is not supported: wanted a version {TerraformVersionRange.Description}. " +
                    "Install a supported version and pass it with --terraform-path, or set Terraform:InstallVersion.");
            }

            TerraformLog.BinaryResolved(_logger, binary.Flavor, binary.Version, binary.Path);
            _resolved = binary;
            return binary;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <c>version -json</c> (and plain <c>version</c> to tell OpenTofu apart) on a binary.</summary>
    public static async Task<TerraformBinary> InspectAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(VersionTimeout);

        BufferedCommandResult json;
        BufferedCommandResult plain;
        try
        {
            var command = Cli.Wrap(path)
                .WithValidation(CommandResultValidation.None)
                .WithEnvironmentVariables(env => env.Set("CHECKPOINT_DISABLE", "1"));
            json = await command.WithArguments(["version", "-json"]).ExecuteBufferedAsync(timeout.Token).ConfigureAwait(false);
            plain = await command.WithArguments(["version"]).ExecuteBufferedAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Win32Exception exception)
        {
            throw new TerraformBinaryException($"Could not run {path}: {exception.Message}. Check that it exists and is executable.", exception);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TerraformBinaryException($"'{path} version -json' did not answer within {VersionTimeout.TotalSeconds:0} s.", exception);
        }

        if (json.ExitCode != 0)
        {
            throw new TerraformBinaryException($"'{path} version -json' failed with exit code {json.ExitCode}: {json.StandardError.Trim()}");
        }

        string versionText;
        string platform;
        try
        {
            using var document = JsonDocument.Parse(json.StandardOutput);
            versionText = document.RootElement.GetProperty("terraform_version").GetString() ?? "";
            platform = document.RootElement.TryGetProperty("platform", out var p) ? p.GetString() ?? "" : "";
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new TerraformBinaryException($"'{path} version -json' did not print Terraform's version JSON; is it a terraform or tofu binary?", exception);
        }

        var version = ParseVersion(versionText) ?? throw new TerraformBinaryException(
            $"'{path} version -json' reported terraform_version '{versionText}', which is not a version number.");
        var flavor = Path.GetFileNameWithoutExtension(path).StartsWith("tofu", StringComparison.OrdinalIgnoreCase)
                     || plain.StandardOutput.StartsWith("OpenTofu", StringComparison.Ordinal)
            ? TerraformFlavor.OpenTofu
            : TerraformFlavor.Terraform;
        return new TerraformBinary(Path.GetFullPath(path), version, flavor, platform);
    }

    /// <summary>Parses "1.11.4", "1.12.0-beta1" or "v1.6.0" into major.minor.patch.</summary>
    internal static Version? ParseVersion(string text)
    {
        var core = text.TrimStart('v');
        var cut = core.IndexOfAny(['-', '+']);
        if (cut >= 0)
        {
            core = core[..cut];
        }

        return Version.TryParse(core, out var version) && version.Build >= 0 ? new Version(version.Major, version.Minor, version.Build) : null;
    }

    private static string? FindOnPath(string name)
    {
        var fileName = OperatingSystem.IsWindows() ? name + ".exe" : name;
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
