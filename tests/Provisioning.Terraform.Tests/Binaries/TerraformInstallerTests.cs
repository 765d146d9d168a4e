using System.Security.Cryptography;
using System.Text;

using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Terraform.Binaries;

namespace Provisioning.Terraform.Tests.Binaries;

public sealed class TerraformInstallerTests : IDisposable
{
    private const string Version = "1.99.0";

    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("provisioning-install-").FullName;
    private readonly string _platform = TerraformInstaller.CurrentPlatform();
    private readonly TestReleaseKey _releaseKey;

    public TerraformInstallerTests() => _releaseKey = new TestReleaseKey(_cacheDirectory);

    private string ZipPath => $"/terraform/{Version}/terraform_{Version}_{_platform}.zip";

    private static string SumsPath => $"/terraform/{Version}/terraform_{Version}_SHA256SUMS";

    [Fact]
    public async Task InstallAsync_VerifiedRelease_UnpacksRunnableBinaryAndReusesIt()
    {
        await using var server = ServeRelease(tamper: false);
        var installer = CreateInstaller(server);
        var cancellationToken = TestContext.Current.CancellationToken;

        var path = await installer.InstallAsync(System.Version.Parse(Version), cancellationToken);
        var again = await installer.InstallAsync(System.Version.Parse(Version), cancellationToken);

        Assert.Equal(Path.Combine(_cacheDirectory, "terraform", Version, "terraform"), path);
        Assert.Equal(path, again);
        var binary = await TerraformBinaryResolver.InspectAsync(path, cancellationToken);
        Assert.Equal(new Version(1, 99, 0), binary.Version);
        Assert.Equal(TerraformFlavor.Terraform, binary.Flavor);
        Assert.Equal(1, server.Requests(ZipPath));
    }

    [Fact]
    public async Task InstallAsync_TamperedArchive_IsRefusedAndDeleted()
    {
        await using var server = ServeRelease(tamper: true);
        var installer = CreateInstaller(server);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken));

        Assert.Contains("SHA-256", exception.Message, StringComparison.Ordinal);
        Assert.Contains("deleted", exception.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(installer.InstallDirectory(System.Version.Parse(Version))));
        Assert.Empty(Directory.EnumerateFiles(_cacheDirectory, "*.zip", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task InstallAsync_ArchiveMissingFromSums_IsRefused()
    {
        await using var server = new ReleaseServer();
        var planNine = Encoding.UTF8.GetBytes($"{new string('0', 64)}  terraform_{Version}_plan9_mips.zip\n");
        server.Add(SumsPath, planNine);
        server.Add(SumsPath + ".sig", _releaseKey.Sign(planNine));
        server.Add(ZipPath, FakeTerraform.ReleaseZip(FakeTerraform.Script(Version)));
        var installer = CreateInstaller(server);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken));

        Assert.Contains("no checksum", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests(ZipPath));
    }

    [Fact]
    public async Task InstallAsync_UnknownVersion_SaysWhatWasAsked()
    {
        await using var server = new ReleaseServer();
        var installer = CreateInstaller(server);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(new Version(1, 98, 0), TestContext.Current.CancellationToken));

        Assert.Contains("404", exception.Message, StringComparison.Ordinal);
        Assert.Contains("1.98.0", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallAsync_TwoCallersAtOnce_DownloadOnce()
    {
        await using var server = ServeRelease(tamper: false);
        var cancellationToken = TestContext.Current.CancellationToken;

        // Two installers, as two daemons on one host would have, sharing one cache directory.
        var paths = await Task.WhenAll(
            CreateInstaller(server).InstallAsync(System.Version.Parse(Version), cancellationToken),
            CreateInstaller(server).InstallAsync(System.Version.Parse(Version), cancellationToken));

        Assert.Equal(paths[0], paths[1]);
        Assert.Equal(1, server.Requests(ZipPath));
    }

    [Fact]
    public async Task Resolver_InstallVersionOption_UsesTheInstalledBinary()
    {
        await using var server = ServeRelease(tamper: false);
        var options = new TerraformOptions { CacheDirectory = _cacheDirectory, InstallVersion = Version, ReleaseBaseUrl = server.BaseUrl, SigningKeyFile = _releaseKey.PublicKeyFile };
        var resolver = new TerraformBinaryResolver(options, CreateInstaller(server, options), NullLogger<TerraformBinaryResolver>.Instance);

        var binary = await resolver.ResolveAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new Version(1, 99, 0), binary.Version);
        Assert.StartsWith(_cacheDirectory, binary.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallAsync_DirectoryWithoutExecutable_IsReinstalled()
    {
        await using var server = ServeRelease(tamper: false);
        var installer = CreateInstaller(server);
        var directory = installer.InstallDirectory(System.Version.Parse(Version));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "leftover.txt"), "from a broken install");

        var path = await installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken);

        Assert.True(File.Exists(path));
        Assert.False(File.Exists(Path.Combine(directory, "leftover.txt")));
    }

    [Fact]
    public void FindSum_SumsFile_FindsTheExactFileName()
    {
        var sums = $"{new string('a', 64)}  terraform_1.11.4_linux_amd64.zip\n{new string('b', 64)}  terraform_1.11.4_linux_arm64.zip\n";

        Assert.Equal(new string('b', 64), TerraformInstaller.FindSum(sums, "terraform_1.11.4_linux_arm64.zip"));
        Assert.Null(TerraformInstaller.FindSum(sums, "terraform_1.11.4_linux_386.zip"));
    }

    public void Dispose() => Directory.Delete(_cacheDirectory, recursive: true);

    [Fact]
    public async Task InstallAsync_SumsWithoutSignature_IsRefusedBeforeAnyArchiveIsFetched()
    {
        await using var server = new ReleaseServer();
        var zip = FakeTerraform.ReleaseZip(FakeTerraform.Script(Version));
        server.Add(SumsPath, Sums(zip));
        server.Add(ZipPath, zip);
        var installer = CreateInstaller(server);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken));

        Assert.Contains("SHA256SUMS.sig", exception.Message, StringComparison.Ordinal);
        Assert.Contains("404", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests(ZipPath));
    }

    [Fact]
    public async Task InstallAsync_SumsAlteredAfterSigning_IsRefused()
    {
        await using var server = new ReleaseServer();
        var zip = FakeTerraform.ReleaseZip(FakeTerraform.Script(Version) + "echo swapped\n");
        var genuine = Sums(FakeTerraform.ReleaseZip(FakeTerraform.Script(Version)));
        server.Add(SumsPath, Sums(zip)); // an attacker swapped both the zip and its checksum…
        server.Add(SumsPath + ".sig", _releaseKey.Sign(genuine)); // …but cannot re-sign the sums
        server.Add(ZipPath, zip);
        var installer = CreateInstaller(server);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken));

        Assert.Contains("does not match its content", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests(ZipPath));
        Assert.False(Directory.Exists(installer.InstallDirectory(System.Version.Parse(Version))));
    }

    [Fact]
    public async Task InstallAsync_SignedByAnotherKey_IsRefusedNamingTheTrustedKey()
    {
        await using var server = ServeRelease(tamper: false, signer: new TestReleaseKey(_cacheDirectory, "Someone Else <x@example.com>"));
        var installer = CreateInstaller(server);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken));

        Assert.Contains("which is not trusted", exception.Message, StringComparison.Ordinal);
        Assert.Contains(_releaseKey.PublicKeyFile, exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests(ZipPath));
    }

    [Fact]
    public async Task InstallAsync_NoKeyFileGiven_TrustsOnlyHashiCorpsReleaseKey()
    {
        // A release signed by any other key (here the test's) is refused when no key file is given: only the embedded
        // HashiCorp key (C874 011F …) is trusted, and the message says which key that is.
        await using var server = ServeRelease(tamper: false);
        var installer = new TerraformInstaller(new TerraformOptions { CacheDirectory = _cacheDirectory, ReleaseBaseUrl = server.BaseUrl }, new HttpClient(), NullLogger<TerraformInstaller>.Instance);

        var exception = await Assert.ThrowsAsync<TerraformInstallException>(
            () => installer.InstallAsync(System.Version.Parse(Version), TestContext.Current.CancellationToken));

        Assert.Contains("HashiCorp's release key C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F", exception.Message, StringComparison.Ordinal);
        Assert.Contains("--terraform-signing-key-file", exception.Message, StringComparison.Ordinal);
    }

    private ReleaseServer ServeRelease(bool tamper, TestReleaseKey? signer = null)
    {
        var server = new ReleaseServer();
        var zip = FakeTerraform.ReleaseZip(FakeTerraform.Script(Version));
        var sums = Sums(zip);
        server.Add(SumsPath, sums);
        server.Add(SumsPath + ".sig", (signer ?? _releaseKey).Sign(sums));
        if (tamper)
        {
            zip = FakeTerraform.ReleaseZip(FakeTerraform.Script(Version) + "echo injected\n");
        }

        server.Add(ZipPath, zip);
        return server;
    }

    private byte[] Sums(byte[] zip) => Encoding.UTF8.GetBytes(
        $"{new string('c', 64)}  terraform_{Version}_windows_amd64.zip\n{Convert.ToHexStringLower(SHA256.HashData(zip))}  terraform_{Version}_{_platform}.zip\n");

    private TerraformInstaller CreateInstaller(ReleaseServer server, TerraformOptions? options = null) =>
        new(
            options ?? new TerraformOptions { CacheDirectory = _cacheDirectory, ReleaseBaseUrl = server.BaseUrl, SigningKeyFile = _releaseKey.PublicKeyFile },
            new HttpClient(),
            NullLogger<TerraformInstaller>.Instance);
}
