using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Database;

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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
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
