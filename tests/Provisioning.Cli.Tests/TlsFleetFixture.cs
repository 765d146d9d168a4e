using System.Security.Cryptography.X509Certificates;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// The fleet of <see cref="CliFleetFixture"/> over mutual TLS, started only with the documented flags: `provisioning server
/// --tls-cert-file --tls-key-file --tls-client-ca-file` (API and daemons' gRPC on one https port, client certificates required)
/// and an anonymous `--metrics-address`; every CLI process and the daemon get the authority and a client certificate through
/// PROVISIONING_TLS_* variables. Certificates are made by a private authority in the test.
/// </summary>
public sealed class TlsFleetFixture : CliFleetFixture
{
    public TlsFleetFixture()
    {
        Certificates = new TestCertificates();
        Server = Certificates.IssueServer();
        Client = Certificates.IssueClient("fleet-client");
    }

    public TestCertificates Certificates { get; }

    public (string CertificateFile, string KeyFile) Server { get; }

    public (string CertificateFile, string KeyFile) Client { get; }

    /// <summary>The anonymous metrics listener (the spare port of the base fixture).</summary>
    public string MetricsUrl => $"http://127.0.0.1:{GrpcPort}";

    protected override string Scheme => "https";

    protected override IReadOnlyList<string> AddressArguments(int httpPort, int grpcPort) =>
    [
        "--http-address", $"127.0.0.1:{httpPort}",
        "--tls-cert-file", Server.CertificateFile, "--tls-key-file", Server.KeyFile,
        "--tls-client-ca-file", Certificates.AuthorityFile,
        "--metrics-address", $"127.0.0.1:{grpcPort}",
    ];

    protected override IReadOnlyDictionary<string, string>? ClientEnvironment => new Dictionary<string, string>
    {
        ["PROVISIONING_TLS_CA_FILE"] = Certificates.AuthorityFile,
        ["PROVISIONING_TLS_CLIENT_CERT_FILE"] = Client.CertificateFile,
        ["PROVISIONING_TLS_CLIENT_KEY_FILE"] = Client.KeyFile,
    };

    /// <summary>An HTTP handler that trusts the test authority and presents the fleet's client certificate.</summary>
    public SocketsHttpHandler TrustingHandler(bool withClientCertificate = true)
    {
        var authority = X509Certificate2.CreateFromPem(File.ReadAllText(Certificates.AuthorityFile));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        handler.SslOptions.CertificateChainPolicy.CustomTrustStore.Add(authority);
        if (withClientCertificate)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(Client.CertificateFile, Client.KeyFile)];
        }

        return handler;
    }

    protected override HttpMessageHandler CreateProbeHandler() => TrustingHandler();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Certificates.Dispose();
    }
}
