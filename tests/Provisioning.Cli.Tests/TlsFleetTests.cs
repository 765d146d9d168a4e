using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Provisioning.Cli.Tests;

/// <summary>
/// A fleet over mutual TLS as an operator starts it with the documented flags (see <see cref="TlsFleetFixture"/>), and what a
/// client without the right authority or certificate is told. Every process is the real `provisioning` build.
/// </summary>
public sealed class TlsFleetTests(TlsFleetFixture fleet) : IClassFixture<TlsFleetFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fleet_OverMutualTls_DaemonJoinsAndAWorkspaceIsCreatedAndDeleted()
    {
        SkipUnlessLinux();

        var created = await fleet.RunAsync("create", "over-tls", "-t", "local", "-y");
        var daemons = JsonDocument.Parse((await fleet.RunCheckedAsync("provisioner", "list", "-o", "json")).Stdout).RootElement;
        var deleted = await fleet.RunAsync("delete", "over-tls", "-y");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("Build #1 (start) of workspace 'over-tls' succeeded", created.Stdout, StringComparison.Ordinal);
        Assert.Contains(daemons.EnumerateArray(), daemon => daemon.GetProperty("name").GetString() == "cli-tests" && daemon.GetProperty("status").GetString() != "offline");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains($"Daemons (gRPC): {fleet.Url}", fleet.ServerOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_WithoutTheAuthority_FailsInOneLineNamingTlsCaFile()
    {
        SkipUnlessLinux();

        var result = await fleet.RunAsync(["list"], StrangerEnvironment(withAuthority: false, withClientCertificate: true));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--tls-ca-file", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Cli_WithoutAClientCertificate_IsRefusedInOneLine()
    {
        SkipUnlessLinux();

        var result = await fleet.RunAsync(["list"], StrangerEnvironment(withAuthority: true, withClientCertificate: false));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_WithTheAuthorityFlag_StoresItForLaterCommands()
    {
        SkipUnlessLinux();
        var home = Path.Combine(fleet.Home, "login-" + Guid.NewGuid().ToString("N")[..8]);
        var environment = StrangerEnvironment(withAuthority: false, withClientCertificate: true, home);
        environment.Remove("PROVISIONING_URL");
        environment.Remove("PROVISIONING_SESSION_TOKEN");
        environment["PROVISIONING_SESSION_TOKEN_FILE"] = Path.Combine(fleet.Home, "session");

        var login = await fleet.RunAsync(["login", fleet.Url, "--tls-ca-file", fleet.Certificates.AuthorityFile], environment);
        environment.Remove("PROVISIONING_SESSION_TOKEN_FILE");
        var list = await fleet.RunAsync(["templates", "list"], environment);

        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("local", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_UntrustedCoordinatorCertificate_ExitsWith2SayingToPassTlsCaFile()
    {
        SkipUnlessLinux();

        var result = await fleet.RunAsync(
            ["provisioner", "start", "--url", fleet.Url, "--key", "not-used-before-tls", "--cache-dir", Path.Combine(fleet.Home, "untrusting-daemon")],
            StrangerEnvironment(withAuthority: false, withClientCertificate: true));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--tls-ca-file", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_AnonymousOnTheMetricsAddress_AdminOnlyOnTheApiPort_NothingElseOnTheMetricsPort()
    {
        SkipUnlessLinux();
        using var anonymousMetrics = new HttpClient { BaseAddress = new Uri(fleet.MetricsUrl) };
        using var anonymousApi = new HttpClient(fleet.TrustingHandler()) { BaseAddress = new Uri(fleet.Url) };
        using var admin = new HttpClient(fleet.TrustingHandler()) { BaseAddress = new Uri(fleet.Url) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(fleet.Home, "session"), Token)).Trim());

        using var scraped = await anonymousMetrics.GetAsync(new Uri("/metrics", UriKind.Relative), Token);
        using var apiOnMetricsPort = await anonymousMetrics.GetAsync(new Uri("/api/v1/buildinfo", UriKind.Relative), Token);
        using var anonymousOnApi = await anonymousApi.GetAsync(new Uri("/metrics", UriKind.Relative), Token);
        using var adminOnApi = await admin.GetAsync(new Uri("/metrics", UriKind.Relative), Token);
        var anonymousReady = await anonymousApi.GetStringAsync(new Uri("/readyz", UriKind.Relative), Token);

        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("provisioning_jobs", await scraped.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, apiOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousOnApi.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminOnApi.StatusCode);
        Assert.Equal("ready", anonymousReady);
    }

    [Fact]
    public async Task Daemon_HttpsCoordinatorAdvertisingCleartextGrpc_RefusesToDowngrade()
    {
        SkipUnlessLinux();

        // A protocol peer, not a coordinator: an https /buildinfo that names a cleartext gRPC address, as a misconfigured
        // proxy in front of a coordinator would.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
            listen.UseHttps(X509Certificate2.CreateFromPemFile(fleet.Server.CertificateFile, fleet.Server.KeyFile))));
        await using var peer = builder.Build();
        peer.MapGet("/api/v1/buildinfo", () => Results.Json(new { version = "test", grpc_address = "http://127.0.0.1:1", http_address = "https://127.0.0.1" }));
        await peer.StartAsync(Token);
        var address = peer.Urls.Single();

        var result = await fleet.RunAsync(
            ["provisioner", "start", "--url", address, "--key", "must-never-be-sent", "--cache-dir", Path.Combine(fleet.Home, "downgrade-daemon")],
            new Dictionary<string, string> { ["PROVISIONING_TLS_CA_FILE"] = fleet.Certificates.AuthorityFile });

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("advertises cleartext gRPC (http://127.0.0.1:1)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("never sends its key unencrypted", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A client with its own empty home (nothing stored by a login) and only the TLS material asked for.</summary>
    private Dictionary<string, string> StrangerEnvironment(bool withAuthority, bool withClientCertificate, string? home = null)
    {
        var directory = home ?? Path.Combine(fleet.Home, "stranger-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        return new Dictionary<string, string>
        {
            ["PROVISIONING_HOME"] = directory,
            ["PROVISIONING_URL"] = fleet.Url,
            ["PROVISIONING_SESSION_TOKEN"] = File.ReadAllText(Path.Combine(fleet.Home, "session")).Trim(),
            ["PROVISIONING_TLS_CA_FILE"] = withAuthority ? fleet.Certificates.AuthorityFile : string.Empty,
            ["PROVISIONING_TLS_CLIENT_CERT_FILE"] = withClientCertificate ? fleet.Client.CertificateFile : string.Empty,
            ["PROVISIONING_TLS_CLIENT_KEY_FILE"] = withClientCertificate ? fleet.Client.KeyFile : string.Empty,
        };
    }

    private static void SkipUnlessLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Starts real processes of the Linux build: Linux only.");
        }
    }
}
