using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

using Microsoft.Extensions.Logging;

namespace Provisioning.Terraform.Binaries;

/// <summary>
/// Installs a pinned Terraform release into <c>{CacheDirectory}/terraform/{version}/</c>: downloads
/// <c>terraform_{v}_SHA256SUMS</c>, its signature <c>…SHA256SUMS.sig</c> and the platform's zip from
/// <see cref="TerraformOptions.ReleaseBaseUrl"/> (HashiCorp's release site or a mirror), refuses the sums unless HashiCorp's
/// release key (or <see cref="TerraformOptions.SigningKeyFile"/>) signed them, refuses the zip unless its SHA-256 is listed,
/// and unpacks it. An existing install is reused.
/// </summary>
public sealed class TerraformInstaller
{
    private readonly TerraformOptions _options;
    private readonly HttpClient _httpClient;
    private readonly ILogger<TerraformInstaller> _logger;

    public TerraformInstaller(TerraformOptions options, HttpClient httpClient, ILogger<TerraformInstaller> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _httpClient = httpClient;
        _logger = logger;
    }

    /// <summary>The directory a version is (or would be) installed in.</summary>
    public string InstallDirectory(Version version) =>
        Path.Combine(_options.CacheDirectory, "terraform", Format(version));

    /// <summary>Installs <paramref name="version"/> unless present; returns the executable's path.</summary>
    public async Task<string> InstallAsync(Version version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(version);
        var versionText = Format(version);
        var directory = InstallDirectory(version);
        var executable = Path.Combine(directory, OperatingSystem.IsWindows() ? "terraform.exe" : "terraform");
        if (File.Exists(executable))
        {
            return executable;
        }

        // Two slots (or two daemons on one host) may want the same version at once: one downloads, the
        // other waits and then finds it installed.
        using var installLock = await FileLock.AcquireAsync(
            Path.Combine(_options.CacheDirectory, "terraform", $".{versionText}.lock"), cancellationToken).ConfigureAwait(false);
        if (File.Exists(executable))
        {
            return executable;
        }

        var platform = CurrentPlatform();
        var zipName = $"terraform_{versionText}_{platform}.zip";
        var sumsName = $"terraform_{versionText}_SHA256SUMS";
        var baseUrl = new Uri(_options.ReleaseBaseUrl.ToString().TrimEnd('/') + $"/terraform/{versionText}/");
        TerraformLog.Installing(_logger, versionText, platform, baseUrl);

        var staging = Path.Combine(_options.CacheDirectory, "terraform", $".{versionText}.{Guid.NewGuid():N}.staging");
        Directory.CreateDirectory(staging);
        try
        {
            var sumsBytes = await DownloadBytesAsync(new Uri(baseUrl, sumsName), cancellationToken).ConfigureAwait(false);
            var signature = await DownloadBytesAsync(new Uri(baseUrl, sumsName + ".sig"), cancellationToken).ConfigureAwait(false);
            ReleaseSignature.Verify(sumsBytes, signature, _options.SigningKeyFile, $"{sumsName} from {baseUrl}");
            var sums = System.Text.Encoding.UTF8.GetString(sumsBytes);
            var expected = FindSum(sums, zipName) ?? throw new TerraformInstallException(
                $"{sumsName} from {baseUrl} lists no checksum for {zipName}; refusing to install an unverified archive. Check Terraform:InstallVersion and that {platform} builds exist for it.");

            var zipPath = Path.Combine(staging, zipName);
            await DownloadFileAsync(new Uri(baseUrl, zipName), zipPath, cancellationToken).ConfigureAwait(false);
            var actual = await HashFileAsync(zipPath, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(zipPath);
                throw new TerraformInstallException(
                    $"{zipName} from {baseUrl} has SHA-256 {actual}, but {sumsName} says {expected}; the download was deleted. Retry, or check the mirror at Terraform:ReleaseBaseUrl.");
            }

            var unpacked = Path.Combine(staging, "unpacked");
            await ZipFile.ExtractToDirectoryAsync(zipPath, unpacked, cancellationToken).ConfigureAwait(false);
            var unpackedExecutable = Path.Combine(unpacked, Path.GetFileName(executable));
            if (!File.Exists(unpackedExecutable))
            {
                throw new TerraformInstallException($"{zipName} from {baseUrl} holds no '{Path.GetFileName(executable)}' executable.");
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(unpackedExecutable, (UnixFileMode)0b111_101_101);
            }

            // A rename makes the install appear whole or not at all, so a crash mid-unpack leaves nothing half-done.
            Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
            if (Directory.Exists(directory))
            {
                // Someone emptied it by hand (the executable is missing, or we would have returned early).
                Directory.Delete(directory, recursive: true);
            }

            Directory.Move(unpacked, directory);
            TerraformLog.Installed(_logger, versionText, executable);
            return executable;
        }
        catch (HttpRequestException exception)
        {
            throw new TerraformInstallException(
                $"Downloading Terraform {versionText} from {baseUrl} failed: {exception.Message}. Check network access to it (--terraform-mirror names another), or provide a binary with --terraform-path.",
                exception);
        }
        catch (InvalidDataException exception)
        {
            throw new TerraformInstallException($"{zipName} from {baseUrl} is not a valid zip archive: {exception.Message}", exception);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    internal static string CurrentPlatform()
    {
        var os = OperatingSystem.IsLinux() ? "linux"
            : OperatingSystem.IsMacOS() ? "darwin"
            : OperatingSystem.IsWindows() ? "windows"
            : OperatingSystem.IsFreeBSD() ? "freebsd"
            : throw new TerraformInstallException($"No Terraform builds are published for {RuntimeInformation.OSDescription}; provide a binary with --terraform-path.");
        var arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "386",
            Architecture.Arm => "arm",
            var other => throw new TerraformInstallException($"No Terraform builds are published for {other}; provide a binary with --terraform-path."),
        };
        return $"{os}_{arch}";
    }

    /// <summary>Finds the checksum of <paramref name="fileName"/> in a SHA256SUMS text ("HEX  NAME" lines).</summary>
    internal static string? FindSum(string sums, string fileName)
    {
        foreach (var line in sums.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && string.Equals(parts[1].TrimStart('*'), fileName, StringComparison.Ordinal) && parts[0].Length == 64)
            {
                return parts[0];
            }
        }

        return null;
    }

    private static string Format(Version version) => $"{version.Major}.{version.Minor}.{Math.Max(version.Build, 0)}";

    private async Task<byte[]> DownloadBytesAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await _httpClient.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, uri);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task DownloadFileAsync(Uri uri, string destination, CancellationToken cancellationToken)
    {
        using var response = await _httpClient.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, uri);
        var file = File.Create(destination);
        await using (file.ConfigureAwait(false))
        {
            await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void EnsureSuccess(HttpResponseMessage response, Uri uri)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new TerraformInstallException(
                $"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}. Check --terraform-version and --terraform-mirror (Terraform:InstallVersion, Terraform:ReleaseBaseUrl).");
        }
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        var file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
        }
    }
}
