using Provisioning.Testing;

namespace Provisioning.Coordinator.Tests;

/// <summary>The coordinator's TLS settings say one thing or are refused at start, naming the flag and the fix.</summary>
public sealed class CoordinatorTlsOptionsTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void Validate_HttpsWithCertificateAndSharedPort_Succeeds()
    {
        var (certificate, key) = _certificates.IssueServer();

        var result = Validate(new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "https://127.0.0.1:3443", TlsCertFile = certificate, TlsKeyFile = key, TlsClientCaFile = _certificates.AuthorityFile });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void AdvertisedGrpcAddress_SharedHttpsPort_IsTheApiAddress_SeparateListener_IsItsOwn()
    {
        Assert.Equal("https://127.0.0.1:3443", new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "https://127.0.0.1:3443" }.AdvertisedGrpcAddress);
        Assert.Equal("https://127.0.0.1:3444", new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "https://127.0.0.1:3444" }.AdvertisedGrpcAddress);
        Assert.Equal("http://127.0.0.1:3001", new CoordinatorOptions().AdvertisedGrpcAddress);
    }

    [Fact]
    public void Validate_HttpsWithoutCertificate_NamesTlsCertFile()
    {
        var result = Validate(new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "https://127.0.0.1:3443" });

        Assert.Contains(result.Failures!, failure => failure.Contains("is https but no certificate is given: pass --tls-cert-file", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CertificateForACleartextAddress_IsRefused()
    {
        var (certificate, key) = _certificates.IssueServer();

        var result = Validate(new CoordinatorOptions { TlsCertFile = certificate, TlsKeyFile = key });

        Assert.Contains(result.Failures!, failure => failure.Contains("--tls-cert-file is given but HttpAddress http://127.0.0.1:3000 is cleartext", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_HttpsApiWithCleartextGrpc_IsRefusedBecauseKeysWouldTravelUnencrypted()
    {
        var (certificate, key) = _certificates.IssueServer();

        var result = Validate(new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "http://127.0.0.1:3001", TlsCertFile = certificate, TlsKeyFile = key });

        Assert.Contains(result.Failures!, failure => failure.Contains("daemons would send their keys unencrypted", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CertificateWithoutItsKey_SaysToPassTheKey()
    {
        var (certificate, _) = _certificates.IssueServer();

        var result = Validate(new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "https://127.0.0.1:3443", TlsCertFile = certificate });

        Assert.Contains(result.Failures!, failure => failure.StartsWith("--tls-cert-file: ", StringComparison.Ordinal) && failure.Contains(certificate, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ClientAuthorityThatIsNotPem_IsRefused()
    {
        var (certificate, key) = _certificates.IssueServer();
        var notPem = Path.Combine(_certificates.Directory, "not-a-ca.pem");
        File.WriteAllText(notPem, "hello");

        var result = Validate(new CoordinatorOptions { HttpAddress = "https://127.0.0.1:3443", GrpcAddress = "https://127.0.0.1:3443", TlsCertFile = certificate, TlsKeyFile = key, TlsClientCaFile = notPem });

        Assert.Contains(result.Failures!, failure => failure.StartsWith("--tls-client-ca-file: ", StringComparison.Ordinal) && failure.Contains("holds no PEM certificate", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ClientAuthorityWithoutTls_IsRefused()
    {
        var result = Validate(new CoordinatorOptions { TlsClientCaFile = _certificates.AuthorityFile });

        Assert.Contains(result.Failures!, failure => failure.Contains("--tls-client-ca-file is given but nothing listens with TLS", StringComparison.Ordinal));
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(CoordinatorOptions options) => new CoordinatorOptionsValidator().Validate(null, options);
}
