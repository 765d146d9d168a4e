using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Provisioning.TestProvider.Plugin;

/// <summary>
/// go-plugin's AutoMTLS, which Terraform turns on unless TF_DISABLE_PLUGIN_TLS is set: Terraform passes its one-time
/// client certificate in PLUGIN_CLIENT_CERT (PEM) and, once it has set that, dials with TLS whatever the provider
/// answers (client.go keeps its TLS configuration; only a server certificate in the handshake makes it trusted). So the
/// provider must serve TLS with a certificate of its own for "localhost", sent in the handshake, and accept only that
/// client certificate.
/// </summary>
internal sealed class AutoMtls
{
    private AutoMtls(X509Certificate2 client, X509Certificate2 server)
    {
        Client = client;
        Server = server;
    }

    public X509Certificate2 Client { get; }

    public X509Certificate2 Server { get; }

    /// <summary>The mTLS setup for this run, or null when Terraform sent no client certificate (TF_DISABLE_PLUGIN_TLS): plain h2c then.</summary>
    public static AutoMtls? FromEnvironment(Func<string, string?> environment)
    {
        if (environment("PLUGIN_CLIENT_CERT") is not { Length: > 0 } clientPem)
        {
            return null;
        }

        var client = X509Certificate2.CreateFromPem(clientPem);
        return new AutoMtls(client, CreateServerCertificate());
    }

    /// <summary>Whether a connecting client is Terraform: it must present exactly the certificate Terraform announced.</summary>
    public bool IsTerraform(X509Certificate2? presented) => presented is not null && presented.RawDataMemory.Span.SequenceEqual(Client.RawDataMemory.Span);

    /// <summary>A self-signed certificate like go-plugin's generateCert: CN and DNS name localhost, a CA for itself, server and client auth.</summary>
    private static X509Certificate2 CreateServerCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=HashiCorp", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.2"), new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddSeconds(-30), now.AddDays(30));
        // Kestrel needs the private key in a form SslStream can use on every platform: a PKCS#12 round trip.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
