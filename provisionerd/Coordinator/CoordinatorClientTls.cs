using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Provisioning.Daemon.Coordinator;

/// <summary>
/// How a client (a daemon, the CLI) checks a TLS coordinator and proves itself: the authorities it trusts (a PEM bundle;
/// default: the system's roots), an optional client certificate for a coordinator that requires one, or, for the daemon built
/// into the server, the server's own certificate pinned. The one place every client of the coordinator builds its TLS from.
/// </summary>
public sealed record CoordinatorClientTls(string? CaFile, string? ClientCertificateFile, string? ClientKeyFile)
{
    /// <summary>Environment variables of the CLI and the daemon (flags of the same names win).</summary>
    public const string CaFileVariable = "PROVISIONING_TLS_CA_FILE";
    public const string ClientCertificateVariable = "PROVISIONING_TLS_CLIENT_CERT_FILE";
    public const string ClientKeyVariable = "PROVISIONING_TLS_CLIENT_KEY_FILE";

    /// <summary>A certificate that is trusted exactly (its own server's, for the built-in daemon), whatever its name or issuer.</summary>
    public X509Certificate2? PinnedServerCertificate { get; init; }

    public static CoordinatorClientTls None { get; } = new(null, null, null);

    /// <summary>Whether anything differs from the system's defaults.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(CaFile) || !string.IsNullOrWhiteSpace(ClientCertificateFile) || PinnedServerCertificate is not null;

    /// <summary>Why these settings cannot be used (a file that does not load), or null.</summary>
    public string? Problem()
    {
        try
        {
            _ = Build();
            return null;
        }
        catch (CoordinatorTlsException exception)
        {
            return exception.Message;
        }
    }

    /// <summary>Sets the handler's TLS options; throws <see cref="CoordinatorTlsException"/> with what to fix when a file does not load.</summary>
    public void ApplyTo(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (IsConfigured)
        {
            handler.SslOptions = Build();
        }
    }

    private SslClientAuthenticationOptions Build()
    {
        var ssl = new SslClientAuthenticationOptions();
        if (!string.IsNullOrWhiteSpace(ClientCertificateFile))
        {
            try
            {
                ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(ClientCertificateFile, string.IsNullOrWhiteSpace(ClientKeyFile) ? null : ClientKeyFile)];
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new CoordinatorTlsException($"--tls-client-cert-file: cannot load a PEM certificate and key from {ClientCertificateFile}: {exception.Message}", exception);
            }
        }
        else if (!string.IsNullOrWhiteSpace(ClientKeyFile))
        {
            throw new CoordinatorTlsException("--tls-client-key-file is given without --tls-client-cert-file: pass the certificate too.", null);
        }

        if (PinnedServerCertificate is { } pinned)
        {
            ssl.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && pinned.RawDataMemory.Span.SequenceEqual(presented.GetRawCertData());
        }
        else if (!string.IsNullOrWhiteSpace(CaFile))
        {
            var authorities = new X509Certificate2Collection();
            try
            {
                authorities.ImportFromPemFile(CaFile);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new CoordinatorTlsException($"--tls-ca-file: cannot read PEM certificates from {CaFile}: {exception.Message}", exception);
            }

            if (authorities.Count == 0)
            {
                throw new CoordinatorTlsException($"--tls-ca-file: {CaFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----).", null);
            }

            // Only these authorities, not the system's as well: a private fleet CA should not be bypassed by any public one.
            ssl.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            ssl.CertificateChainPolicy.CustomTrustStore.AddRange(authorities);
        }

        return ssl;
    }

    /// <summary>
    /// What to tell a user whose TLS handshake failed (found in the exception's causes), or null when it was not TLS.
    /// </summary>
    public static string? DescribeHandshakeFailure(Exception exception, Uri url)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is System.Security.Authentication.AuthenticationException authentication)
            {
                return $"the TLS handshake with {url.GetLeftPart(UriPartial.Authority)} failed ({authentication.Message}): if its certificate is issued by a private authority, pass that authority with --tls-ca-file (or {CaFileVariable}); if the coordinator requires client certificates, pass --tls-client-cert-file and --tls-client-key-file.";
            }
        }

        return null;
    }
}
