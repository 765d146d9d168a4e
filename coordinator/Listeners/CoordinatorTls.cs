using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Provisioning.Coordinator.Listeners;

/// <summary>
/// Loads the coordinator's PEM certificates and client authorities, and turns them into Kestrel's https settings.
/// The one place that decides what a TLS listener presents and which client certificates it accepts.
/// </summary>
internal static class CoordinatorTls
{
    /// <summary>Loads a PEM certificate (chain) and its key; returns why it cannot be used, or null.</summary>
    public static string? TryLoadCertificate(string certificateFile, string? keyFile, out X509Certificate2? certificate)
    {
        certificate = null;
        try
        {
            var loaded = X509Certificate2.CreateFromPemFile(certificateFile, string.IsNullOrWhiteSpace(keyFile) ? null : keyFile);
            if (!loaded.HasPrivateKey)
            {
                loaded.Dispose();
                return $"{certificateFile} has no private key: pass its key with the matching --…-key-file flag.";
            }

            if (loaded.NotAfter < DateTime.Now)
            {
                var expired = loaded.NotAfter;
                loaded.Dispose();
                return $"the certificate in {certificateFile} expired on {expired:u}: renew it.";
            }

            certificate = loaded;
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return $"cannot load a PEM certificate and key from {certificateFile}{(string.IsNullOrWhiteSpace(keyFile) ? string.Empty : " and " + keyFile)}: {exception.Message}";
        }
    }

    /// <summary>Loads the PEM certificates of a CA bundle; returns why it cannot be used, or null.</summary>
    public static string? TryLoadAuthorities(string file, out X509Certificate2Collection authorities)
    {
        authorities = [];
        try
        {
            authorities.ImportFromPemFile(file);
            return authorities.Count == 0 ? $"{file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)." : null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return $"cannot read PEM certificates from {file}: {exception.Message}";
        }
    }

    /// <summary>
    /// Kestrel's https settings for one listener: its certificate and, with <see cref="CoordinatorOptions.TlsClientCaFile"/>,
    /// a required client certificate that chains to one of those authorities (and to nothing else: not the system's roots).
    /// </summary>
    public static HttpsConnectionAdapterOptions HttpsOptions(CoordinatorOptions options, string certificateFile, string? keyFile)
    {
        if (TryLoadCertificate(certificateFile, keyFile, out var certificate) is { } problem)
        {
            throw new InvalidOperationException(problem); // The validator has already refused this at start.
        }

        var https = new HttpsConnectionAdapterOptions { ServerCertificate = certificate };
        if (!string.IsNullOrWhiteSpace(options.TlsClientCaFile))
        {
            if (TryLoadAuthorities(options.TlsClientCaFile, out var authorities) is { } caProblem)
            {
                throw new InvalidOperationException(caProblem);
            }

            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (client, _, _) => IsIssuedBy(client, authorities);
        }

        return https;
    }

    private static bool IsIssuedBy(X509Certificate2 client, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        // Private authorities of a fleet rarely publish revocation lists; an operator revokes a daemon with its key.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2")); // TLS client authentication
        return chain.Build(client);
    }
}
