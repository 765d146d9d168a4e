using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Database;
using Provisioning.Coordinator.Listeners;

namespace Provisioning.Coordinator;

/// <summary>Rejects settings the coordinator cannot run with, naming the setting and a valid value.</summary>
public sealed class CoordinatorOptionsValidator : IValidateOptions<CoordinatorOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (!string.IsNullOrWhiteSpace(options.PostgresUrl))
        {
            try
            {
                _ = PostgresConnectionString.Parse(options.PostgresUrl);
            }
            catch (FormatException exception)
            {
                failures.Add($"{nameof(options.PostgresUrl)}: {exception.Message}");
            }
        }
        else if (string.IsNullOrWhiteSpace(options.HomeDirectory))
        {
            failures.Add($"{nameof(options.HomeDirectory)} is empty: set it (or $PROVISIONING_HOME) to a writable directory for the built-in PostgreSQL, or pass a PostgreSQL URL.");
        }

        RequirePositive(failures, nameof(options.JobHangTimeout), options.JobHangTimeout);
        RequirePositive(failures, nameof(options.JobPendingTimeout), options.JobPendingTimeout);
        RequirePositive(failures, nameof(options.DaemonRetention), options.DaemonRetention);
        RequirePositive(failures, nameof(options.UnreferencedFileRetention), options.UnreferencedFileRetention);
        if (options.JobLogRetention < TimeSpan.Zero)
        {
            failures.Add($"{nameof(options.JobLogRetention)} is {options.JobLogRetention}: use a positive duration, or zero to keep logs forever (default 30 days).");
        }
        if (options.MaxJobLogBytes < CoordinatorOptions.MinJobLogBytes)
        {
            failures.Add($"{nameof(options.MaxJobLogBytes)} (--max-job-log-size) is {options.MaxJobLogBytes} bytes: use at least {CoordinatorOptions.MinJobLogBytes} bytes (1KiB; default 16MiB).");
        }

        if (options.MaxUploadBytes < 1024 * 1024)
        {
            failures.Add($"{nameof(options.MaxUploadBytes)} is {options.MaxUploadBytes}: use at least 1 MiB (default 64 MiB).");
        }

        if (options.ProvisionerPsk is { Length: > 0 and < 16 })
        {
            failures.Add($"{nameof(options.ProvisionerPsk)} is too short to be a secret: use at least 16 characters, or leave it empty to accept provisioner keys only.");
        }

        RequireAddress(failures, nameof(options.HttpAddress), options.HttpAddress);
        RequireAddress(failures, nameof(options.GrpcAddress), options.GrpcAddress);
        if (Uri.TryCreate(options.HttpAddress, UriKind.Absolute, out var http) && http.Scheme == Uri.UriSchemeHttp
            && Uri.TryCreate(options.GrpcAddress, UriKind.Absolute, out var grpc) && grpc.Host == http.Host && grpc.Port == http.Port)
        {
            // Kestrel speaks cleartext HTTP/2 only on an HTTP/2-only endpoint, so gRPC cannot share the REST port.
            failures.Add($"{nameof(options.GrpcAddress)} is the same as {nameof(options.HttpAddress)} ({options.HttpAddress}) without TLS: give gRPC its own port (e.g. the HTTP port + 1), or serve both over https.");
        }

        ValidateTls(failures, options);
        if (!string.IsNullOrWhiteSpace(options.MetricsAddress))
        {
            RequireAddress(failures, nameof(options.MetricsAddress), options.MetricsAddress);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// TLS settings must say one thing: an https address has a certificate that loads, a certificate is not given
    /// for a cleartext address (it would be silently unused), and daemons are never told to send their keys in cleartext
    /// to a coordinator whose API is https.
    /// </summary>
    private static void ValidateTls(List<string> failures, CoordinatorOptions options)
    {
        if (!Uri.TryCreate(options.HttpAddress, UriKind.Absolute, out var http) || !Uri.TryCreate(options.GrpcAddress, UriKind.Absolute, out var grpc))
        {
            return; // Already reported.
        }

        var httpTls = http.Scheme == Uri.UriSchemeHttps;
        var grpcTls = grpc.Scheme == Uri.UriSchemeHttps;
        if (httpTls && string.IsNullOrWhiteSpace(options.TlsCertFile))
        {
            failures.Add($"{nameof(options.HttpAddress)} {options.HttpAddress} is https but no certificate is given: pass --tls-cert-file (and --tls-key-file) with a PEM certificate and key, or use an http:// address.");
        }

        if (!httpTls && !string.IsNullOrWhiteSpace(options.TlsCertFile))
        {
            failures.Add($"--tls-cert-file is given but {nameof(options.HttpAddress)} {options.HttpAddress} is cleartext: use https://{http.Authority}.");
        }

        if (httpTls && !grpcTls)
        {
            failures.Add($"{nameof(options.GrpcAddress)} {options.GrpcAddress} is cleartext while the API is https: daemons would send their keys unencrypted. Leave --grpc-address out (gRPC then shares the https port) or give an https:// one.");
        }

        if (grpcTls && options.HasSeparateGrpcListener && string.IsNullOrWhiteSpace(options.GrpcTlsCertFile ?? options.TlsCertFile))
        {
            failures.Add($"{nameof(options.GrpcAddress)} {options.GrpcAddress} is https but no certificate is given: pass --grpc-tls-cert-file (or --tls-cert-file for both).");
        }

        if (!string.IsNullOrWhiteSpace(options.GrpcTlsCertFile) && !(grpcTls && options.HasSeparateGrpcListener))
        {
            failures.Add($"--grpc-tls-cert-file is given but {nameof(options.GrpcAddress)} {options.GrpcAddress} is not a separate https listener: give --grpc-address https://host:port, or leave the flag out.");
        }

        if (!string.IsNullOrWhiteSpace(options.TlsClientCaFile) && !httpTls && !grpcTls)
        {
            failures.Add("--tls-client-ca-file is given but nothing listens with TLS: client certificates are only asked for over https (give --tls-cert-file and https addresses).");
        }

        foreach (var (setting, certificate, key) in new[]
        {
            ("--tls-cert-file", options.TlsCertFile, options.TlsKeyFile),
            ("--grpc-tls-cert-file", options.GrpcTlsCertFile, options.GrpcTlsKeyFile),
        })
        {
            if (!string.IsNullOrWhiteSpace(certificate) && CoordinatorTls.TryLoadCertificate(certificate, key, out _) is { } problem)
            {
                failures.Add($"{setting}: {problem}");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.TlsClientCaFile) && CoordinatorTls.TryLoadAuthorities(options.TlsClientCaFile, out _) is { } caProblem)
        {
            failures.Add($"--tls-client-ca-file: {caProblem}");
        }
    }

    private static void RequirePositive(List<string> failures, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{setting} is {value}: use a positive duration, e.g. 00:05:00.");
        }
    }

    private static void RequireAddress(List<string> failures, string setting, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Port < 0)
        {
            failures.Add($"{setting} '{value}' is not a listen address: use http(s)://host:port, e.g. http://127.0.0.1:3000.");
        }
    }
}
