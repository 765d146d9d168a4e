using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator;
using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Health;
using Provisioning.Cli.Config;
using Provisioning.Cli.Hosting;
using Provisioning.Dashboard;
using Provisioning.Daemon;
using Provisioning.Daemon.Hosting;
using Provisioning.Terraform;
using Provisioning.Terraform.Sandbox;

namespace Provisioning.Cli.Commands;

/// <summary>
/// <c>provisioning server</c>: runs the coordinator (REST API, daemon gRPC service, queue) with the built-in
/// PostgreSQL unless --postgres-url is given. Every flag can also be set as a PROVISIONING_* environment
/// variable (the flag wins); secrets also from a file (<c>--provisioner-psk-file</c>, <c>--postgres-url-file</c>).
/// Ctrl+C (SIGINT) or SIGTERM stops it cleanly, the built-in PostgreSQL last. The built-in daemon runs Terraform in a
/// bubblewrap sandbox, so templates cannot read the server's secrets (<c>docs/decisions/0005-built-in-daemon-isolation.md</c>);
/// where that is impossible it says so at start and in <c>/readyz</c>.
/// </summary>
internal static class ServerCommand
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan BuiltInDrainTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan BuiltInDaemonShutdownTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var httpAddress = Flag("--http-address", "PROVISIONING_HTTP_ADDRESS", "Where the REST API listens (host:port).", "127.0.0.1:3000");
        var grpcAddress = Flag("--grpc-address", "PROVISIONING_GRPC_ADDRESS", "Where daemons connect over cleartext gRPC (HTTP/2 only); default: the HTTP port + 1.", null);
        var postgresUrl = new SecretOption("--postgres-url", "PROVISIONING_POSTGRES_URL", "PostgreSQL to use (postgres://user:pass@host:5432/db); default: the built-in one under $PROVISIONING_HOME.", CliValues.HasPassword);
        var maxUploadSize = Flag("--max-upload-size", "PROVISIONING_MAX_UPLOAD_SIZE", "Largest template or state accepted (e.g. 64MiB).", "64MiB");
        var maxJobLogSize = Flag("--max-job-log-size", "PROVISIONING_MAX_JOB_LOG_SIZE", "Log output kept per job (e.g. 16MiB); past it lines are counted, not stored, and the log says how many were left out. The build never fails because of it.", "16MiB");
        var jobHangTimeout = Flag("--job-hang-timeout", "PROVISIONING_JOB_HANG_TIMEOUT", "A running job without a heartbeat for this long fails as hung.", "5m");
        var jobPendingTimeout = Flag("--job-pending-timeout", "PROVISIONING_JOB_PENDING_TIMEOUT", "A job no daemon took for this long fails.", "30m");
        var jobLogRetention = Flag("--job-log-retention", "PROVISIONING_JOB_LOG_RETENTION", "Logs of jobs that ended longer ago are deleted (0s keeps them forever).", "30d");
        var provisionerPsk = new SecretOption("--provisioner-psk", "PROVISIONING_PROVISIONER_PSK", "Pre-shared key daemons may authenticate with (at least 16 characters); default: provisioner keys only.");
        var provisionerDaemons = Flag("--provisioner-daemons", "PROVISIONING_PROVISIONER_DAEMONS", "Job slots of the provisioner daemon run inside the server (0 to 64; 0: none, jobs need external daemons).", "3");
        var provisionerSandbox = Flag("--provisioner-sandbox", "PROVISIONING_PROVISIONER_SANDBOX", "How the built-in daemon isolates templates from the server: auto (a job container when a Docker engine has the job image, else bubblewrap, else a warning), docker or bubblewrap (required), none.", "auto");
        var provisionerJobImage = Flag("--provisioner-job-image", "PROVISIONING_PROVISIONER_JOB_IMAGE", "The image of the built-in daemon's job containers (scripts/docker-job-image.sh builds it).", TerraformOptions.DefaultJobImage);
        var provisionerBinaries = CliCommon.KeyValueOption("--provisioner", "The built-in daemon also offers the provisioner NAME served by the binary PATH (NAME=PATH, repeatable), as `provisioner start --provisioner` does: templates pushed with --provisioner NAME run on it. The binary runs as this server's user, outside the sandbox of --provisioner-sandbox (which isolates Terraform).");
        var bwrapPath = Flag("--bwrap-path", "PROVISIONING_BWRAP_PATH", "The bubblewrap executable for the built-in daemon's sandbox (default: bwrap on PATH).", null);
        var tlsCertFile = Flag("--tls-cert-file", "PROVISIONING_TLS_CERT_FILE", "PEM certificate (chain) to serve the API over https; daemons' gRPC then shares the port (ALPN). An --http-address without a scheme becomes https.", null);
        var tlsKeyFile = Flag("--tls-key-file", "PROVISIONING_TLS_KEY_FILE", "PEM private key of --tls-cert-file (default: in the certificate file).", null);
        var grpcTlsCertFile = Flag("--grpc-tls-cert-file", "PROVISIONING_GRPC_TLS_CERT_FILE", "PEM certificate of a separate https --grpc-address (default: --tls-cert-file).", null);
        var grpcTlsKeyFile = Flag("--grpc-tls-key-file", "PROVISIONING_GRPC_TLS_KEY_FILE", "PEM private key of --grpc-tls-cert-file (default: in the certificate file).", null);
        var tlsClientCaFile = Flag("--tls-client-ca-file", "PROVISIONING_TLS_CLIENT_CA_FILE", "Require client certificates issued by these PEM authorities from daemons and the CLI (mutual TLS).", null);
        var metricsAddress = Flag("--metrics-address", "PROVISIONING_METRICS_ADDRESS", "Also serve /metrics without a token here (host:port), for a Prometheus on a trusted network; on the API port /metrics needs an admin's token.", null);

        var command = new Command("server", "Run the coordinator: REST API, daemon gRPC service and job queue.")
        {
            httpAddress, grpcAddress, postgresUrl.Value, postgresUrl.File, maxUploadSize, maxJobLogSize, jobHangTimeout, jobPendingTimeout, jobLogRetention,
            provisionerPsk.Value, provisionerPsk.File, provisionerDaemons, provisionerSandbox, provisionerJobImage, provisionerBinaries, bwrapPath,
            tlsCertFile, tlsKeyFile, grpcTlsCertFile, grpcTlsKeyFile, tlsClientCaFile, metricsAddress,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            CoordinatorOptions options;
            int daemonSlots;
            TerraformOptions sandbox;
            Dictionary<string, string> binaries;
            try
            {
                // With a certificate, an address without a scheme means https: the certificate is what the user asked for.
                var certificate = FullPath(parse.GetValue(tlsCertFile));
                var http = CliValues.ParseAddress(WithScheme(parse.GetValue(httpAddress)!, certificate is not null));
                var https = http.StartsWith("https:", StringComparison.Ordinal);
                options = new CoordinatorOptions
                {
                    HttpAddress = http,
                    GrpcAddress = parse.GetValue(grpcAddress) is { Length: > 0 } grpc ? CliValues.ParseAddress(WithScheme(grpc, https))
                        : https ? http : NextPort(http),
                    TlsCertFile = certificate,
                    TlsKeyFile = FullPath(parse.GetValue(tlsKeyFile)),
                    GrpcTlsCertFile = FullPath(parse.GetValue(grpcTlsCertFile)),
                    GrpcTlsKeyFile = FullPath(parse.GetValue(grpcTlsKeyFile)),
                    TlsClientCaFile = FullPath(parse.GetValue(tlsClientCaFile)),
                    MetricsAddress = parse.GetValue(metricsAddress) is { Length: > 0 } metrics ? CliValues.ParseAddress(metrics) : null,
                    PostgresUrl = postgresUrl.Resolve(parse, Console.Error),
                    MaxUploadBytes = CliValues.ParseSize(parse.GetValue(maxUploadSize)!),
                    MaxJobLogBytes = CliValues.ParseSize(parse.GetValue(maxJobLogSize)!),
                    JobHangTimeout = CliValues.ParseDuration(parse.GetValue(jobHangTimeout)!),
                    JobPendingTimeout = CliValues.ParseDuration(parse.GetValue(jobPendingTimeout)!),
                    JobLogRetention = CliValues.ParseDuration(parse.GetValue(jobLogRetention)!),
                    ProvisionerPsk = provisionerPsk.Resolve(parse, Console.Error),
                };
                sandbox = new TerraformOptions
                {
                    Sandbox = CliValues.ParseSandbox(parse.GetValue(provisionerSandbox)!, "--provisioner-sandbox"),
                    BubblewrapPath = parse.GetValue(bwrapPath) is { Length: > 0 } bwrap ? bwrap : null,
                    JobImage = parse.GetValue(provisionerJobImage) is { Length: > 0 } image ? image : TerraformOptions.DefaultJobImage,
                };
                if (!int.TryParse(parse.GetValue(provisionerDaemons), NumberStyles.None, CultureInfo.InvariantCulture, out daemonSlots) || daemonSlots > ProvisionerDaemonOptions.MaxSlots)
                {
                    throw new FormatException($"--provisioner-daemons '{parse.GetValue(provisionerDaemons)}' is not a number of slots from 0 to {ProvisionerDaemonOptions.MaxSlots}.");
                }

                binaries = CliCommon.ParsePairs(parse.GetValue(provisionerBinaries), "--provisioner")
                    .ToDictionary(pair => pair.Key, pair => Path.GetFullPath(pair.Value), StringComparer.Ordinal);
                if (binaries.Count > 0 && daemonSlots == 0)
                {
                    throw new FormatException("--provisioner adds a provisioner to the built-in daemon, and --provisioner-daemons 0 turns that daemon off: "
                        + "give it slots (--provisioner-daemons 1 or more), or pass --provisioner to `provisioning provisioner start` instead.");
                }
            }
            catch (Exception exception) when (exception is FormatException or OverflowException or CliException)
            {
                await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
                return 2;
            }

            if (sandbox.BubblewrapPath is { } path && !Path.IsPathFullyQualified(path))
            {
                await Console.Error.WriteLineAsync($"--bwrap-path '{path}' is not an absolute path: give the full path of bwrap, or leave it out to use bwrap from PATH.").ConfigureAwait(false);
                return 2;
            }

            // Checked here too, so a bad flag gets one clear line instead of the host's failure log.
            var validation = new CoordinatorOptionsValidator().Validate(null, options);
            if (validation.Failed)
            {
                await Console.Error.WriteLineAsync("Invalid settings: " + string.Join(" ", validation.Failures ?? [])).ConfigureAwait(false);
                return 2;
            }

            if (daemonSlots > 0 && !string.IsNullOrWhiteSpace(options.TlsClientCaFile))
            {
                // The built-in daemon has no certificate from the operator's client authority to present.
                await Console.Error.WriteLineAsync("--tls-client-ca-file requires client certificates, which the built-in daemon cannot present: add --provisioner-daemons 0 and run daemons with --tls-client-cert-file.").ConfigureAwait(false);
                return 2;
            }

            return await RunAsync(options, daemonSlots, sandbox, binaries, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        CoordinatorOptions options, int daemonSlots, TerraformOptions sandbox, IReadOnlyDictionary<string, string> binaries, CancellationToken cancellationToken)
    {
        // Templates are code run by the built-in daemon inside this process's account: unless they run sandboxed, they can
        // read this server's admin token, database password and data. Said before anything starts, and kept in /readyz.
        var readinessWarnings = new ReadinessWarnings();
        TerraformSandboxStatus? isolation = null;
        if (daemonSlots > 0)
        {
            isolation = await TerraformSandbox.CheckAsync(sandbox, cancellationToken).ConfigureAwait(false);
            if (!isolation.Isolated)
            {
                if (isolation.Mode == TerraformSandboxMode.Bubblewrap)
                {
                    await Console.Error.WriteLineAsync("error: --provisioner-sandbox bubblewrap: " + isolation.Description).ConfigureAwait(false);
                    return ProvisionerDaemonException.ProvisionerExitCode;
                }

                await Console.Error.WriteLineAsync("warning: built-in provisioner daemon: " + isolation.Description).ConfigureAwait(false);
                readinessWarnings.Add("built-in provisioner daemon: " + isolation.Description);
            }
        }

        // The built-in daemon authenticates with the operator's PSK, else with one made up for this run only (never printed),
        // so that no credential has to be created before the first job runs.
        var userPsk = options.ProvisionerPsk;
        var daemonPsk = daemonSlots == 0 ? null : userPsk ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{CoordinatorOptions.SectionName}:{nameof(options.HttpAddress)}"] = options.HttpAddress,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.GrpcAddress)}"] = options.GrpcAddress,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.PostgresUrl)}"] = options.PostgresUrl,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.MaxUploadBytes)}"] = options.MaxUploadBytes.ToString(CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.MaxJobLogBytes)}"] = options.MaxJobLogBytes.ToString(CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.JobHangTimeout)}"] = options.JobHangTimeout.ToString("c", CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.JobPendingTimeout)}"] = options.JobPendingTimeout.ToString("c", CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.JobLogRetention)}"] = options.JobLogRetention.ToString("c", CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.ProvisionerPsk)}"] = daemonPsk ?? userPsk,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.TlsCertFile)}"] = options.TlsCertFile,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.TlsKeyFile)}"] = options.TlsKeyFile,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.GrpcTlsCertFile)}"] = options.GrpcTlsCertFile,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.GrpcTlsKeyFile)}"] = options.GrpcTlsKeyFile,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.TlsClientCaFile)}"] = options.TlsClientCaFile,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.MetricsAddress)}"] = options.MetricsAddress,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Hangfire", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddSingleton(readinessWarnings);
        builder.Services.AddProvisioningSystemd();
        builder.AddCoordinator();
        builder.AddDashboard();
        builder.AddTraceExport("provisioning-coordinator", restRequests: true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenOnCoordinatorAddresses(options));
        if (daemonSlots > 0)
        {
            var grpc = new UriBuilder(options.AdvertisedGrpcAddress);
            if (grpc.Host is "0.0.0.0" or "[::]" or "::")
            {
                grpc.Host = "127.0.0.1";
            }

            // Over TLS the built-in daemon trusts exactly the certificate its own server presents: it dials 127.0.0.1,
            // which the certificate need not name, and the authority that issued it need not be in this machine's roots.
            var pinned = !grpc.Uri.Scheme.Equals(Uri.UriSchemeHttps, StringComparison.Ordinal) ? null
                : options.HasSeparateGrpcListener && options.GrpcTlsCertFile is { Length: > 0 } grpcCertificate ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(grpcCertificate, options.GrpcTlsKeyFile)
                : System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(options.TlsCertFile!, options.TlsKeyFile);
            builder.AddProvisionerDaemon(daemon =>
            {
                daemon.CoordinatorUrl = grpc.Uri;
                daemon.Tls = Provisioning.Daemon.Coordinator.CoordinatorClientTls.None with { PinnedServerCertificate = pinned };
                daemon.PreSharedKey = daemonPsk;
                daemon.Slots = daemonSlots;
                daemon.Name = "built-in@" + Environment.MachineName;
                daemon.CacheDirectory = Path.Combine(options.HomeDirectory, "cache");
                daemon.Sandbox = sandbox.Sandbox;
                daemon.BubblewrapPath = sandbox.BubblewrapPath;
                daemon.JobImage = sandbox.JobImage;
                foreach (var (type, path) in binaries)
                {
                    daemon.ProvisionerBinaries[type] = path;
                }

                // The server stops as a whole: its daemon gets a short drain (reports it cannot deliver stay
                // spooled under the cache and are sent at the next start), so a server stop stays within a minute or two.
                daemon.DrainTimeout = BuiltInDrainTimeout;
                daemon.ShutdownTimeout = BuiltInDaemonShutdownTimeout;
            });
        }

        await using var app = builder.Build();
        app.MapCoordinator();
        app.MapDashboard();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException exception)
        {
            await Console.Error.WriteLineAsync("Invalid settings: " + string.Join(" ", exception.Failures)).ConfigureAwait(false);
            return 2;
        }

        var settings = app.Services.GetRequiredService<IOptions<CoordinatorOptions>>().Value;
        PrintBanner(settings, userPsk, daemonSlots, binaries, isolation);

        // The host's console lifetime turns SIGINT/SIGTERM into a graceful stop.
        await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);

        // Non-zero only when the built-in daemon stopped the server for good (e.g. no usable Terraform: 4, its reason logged).
        // Not its crash code 1: a Ctrl+C while it registers is still reported as a crash by the daemon, and the server stopped as asked.
        return Environment.ExitCode is ProvisionerDaemonException.ConfigurationExitCode or ProvisionerDaemonException.AuthenticationExitCode or ProvisionerDaemonException.ProvisionerExitCode
            ? Environment.ExitCode
            : 0;
    }

    private static void PrintBanner(CoordinatorOptions settings, string? userPsk, int daemonSlots, IReadOnlyDictionary<string, string> binaries, TerraformSandboxStatus? isolation)
    {
        var grpc = settings.AdvertisedGrpcAddress;
        var session = Path.Combine(settings.HomeDirectory, "session");
        var api = settings.HttpAddress + ApiHostingExtensions.BasePath;
        var database = string.IsNullOrWhiteSpace(settings.PostgresUrl)
            ? "built-in PostgreSQL under " + Path.Combine(settings.HomeDirectory, "postgres")
            : "the one given by --postgres-url";
        var pskHint = string.IsNullOrEmpty(userPsk)
            ? "(or start the server with --provisioner-psk and pass --psk instead of --key)"
            : "(or pass --psk with the pre-shared key this server was given)";
        var offered = binaries.ContainsKey("terraform") ? new List<string>() : ["terraform"];
        offered.AddRange(binaries.Select(binary => $"{binary.Key} ({binary.Value}, outside the sandbox)"));
        var builtIn = daemonSlots == 0 ? "none built in (--provisioner-daemons 0): start one below"
            : $"built-in daemon with {daemonSlots} slot(s), untagged: {string.Join(", ", offered)}";
        var sandboxed = isolation is null ? "no built-in daemon" : isolation.Isolated ? (isolation.InEffect == "docker" ? "templates run in job containers (Docker)" : "templates run in a bubblewrap sandbox") : "NONE: templates can read this server's secrets (see the warning above)";
        Console.WriteLine($"""

            Provisioning coordinator is running.
              REST API:       {api}  (OpenAPI document: {settings.HttpAddress}/openapi/v1.json)
              Daemons (gRPC): {grpc}
              Database:       {database}
              Provisioners:   {builtIn}
              Isolation:      {sandboxed}
              Admin token:    {session}  (written on the first start, readable by this user only)
                              log in on this machine with: provisioning login {settings.HttpAddress}

            Start an external provisioner daemon (on any machine that reaches this one):
              1. create a key:  provisioning provisioner keys create my-fleet [--tag key=value]
              2. run:           provisioning provisioner start --url {settings.HttpAddress} --key <the key shown once>
                                {pskHint}

            Press Ctrl+C to stop.
            """);
    }

    private static Option<string?> Flag(string name, string environmentVariable, string description, string? defaultValue) => new(name)
    {
        Description = $"{description} [env: {environmentVariable}]",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : defaultValue,
    };

    private static string? FullPath(string? file) => string.IsNullOrWhiteSpace(file) ? null : System.IO.Path.GetFullPath(file);

    private static string WithScheme(string address, bool https) =>
        https && !address.Contains("://", StringComparison.Ordinal) ? "https://" + address.Trim() : address;

    private static string NextPort(string httpAddress)
    {
        var uri = new Uri(httpAddress);
        return $"http://{uri.Host}:{uri.Port + 1}";
    }
}
