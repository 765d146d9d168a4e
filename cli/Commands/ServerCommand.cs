using System.CommandLine;
using System.Globalization;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator;
using Provisioning.Coordinator.Api;

namespace Provisioning.Cli.Commands;

/// <summary>
/// <c>provisioning server</c>: runs the coordinator (REST API, daemon gRPC service, queue) with the built-in
/// PostgreSQL unless --postgres-url is given. Every flag can also be set as a PROVISIONING_* environment
/// variable (the flag wins). Ctrl+C (SIGINT) or SIGTERM stops it cleanly, the built-in PostgreSQL last.
/// </summary>
internal static class ServerCommand
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var httpAddress = Flag("--http-address", "PROVISIONING_HTTP_ADDRESS", "Where the REST API listens (host:port).", "127.0.0.1:3000");
        var grpcAddress = Flag("--grpc-address", "PROVISIONING_GRPC_ADDRESS", "Where daemons connect over cleartext gRPC (HTTP/2 only); default: the HTTP port + 1.", null);
        var postgresUrl = Flag("--postgres-url", "PROVISIONING_POSTGRES_URL", "PostgreSQL to use (postgres://user:pass@host:5432/db); default: the built-in one under $PROVISIONING_HOME.", null);
        var maxUploadSize = Flag("--max-upload-size", "PROVISIONING_MAX_UPLOAD_SIZE", "Largest template or state accepted (e.g. 64MiB).", "64MiB");
        var jobHangTimeout = Flag("--job-hang-timeout", "PROVISIONING_JOB_HANG_TIMEOUT", "A running job without a heartbeat for this long fails as hung.", "5m");
        var jobPendingTimeout = Flag("--job-pending-timeout", "PROVISIONING_JOB_PENDING_TIMEOUT", "A job no daemon took for this long fails.", "30m");
        var provisionerPsk = Flag("--provisioner-psk", "PROVISIONING_PROVISIONER_PSK", "Pre-shared key daemons may authenticate with (at least 16 characters); default: provisioner keys only.", null);

        var command = new Command("server", "Run the coordinator: REST API, daemon gRPC service and job queue.")
        {
            httpAddress, grpcAddress, postgresUrl, maxUploadSize, jobHangTimeout, jobPendingTimeout, provisionerPsk,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            CoordinatorOptions options;
            try
            {
                var http = CliValues.ParseAddress(parse.GetValue(httpAddress)!);
                options = new CoordinatorOptions
                {
                    HttpAddress = http,
                    GrpcAddress = parse.GetValue(grpcAddress) is { Length: > 0 } grpc ? CliValues.ParseAddress(grpc) : NextPort(http),
                    PostgresUrl = parse.GetValue(postgresUrl),
                    MaxUploadBytes = CliValues.ParseSize(parse.GetValue(maxUploadSize)!),
                    JobHangTimeout = CliValues.ParseDuration(parse.GetValue(jobHangTimeout)!),
                    JobPendingTimeout = CliValues.ParseDuration(parse.GetValue(jobPendingTimeout)!),
                    ProvisionerPsk = parse.GetValue(provisionerPsk),
                };
            }
            catch (Exception exception) when (exception is FormatException or OverflowException)
            {
                await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
                return 2;
            }

            return await RunAsync(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{CoordinatorOptions.SectionName}:{nameof(options.HttpAddress)}"] = options.HttpAddress,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.GrpcAddress)}"] = options.GrpcAddress,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.PostgresUrl)}"] = options.PostgresUrl,
            [$"{CoordinatorOptions.SectionName}:{nameof(options.MaxUploadBytes)}"] = options.MaxUploadBytes.ToString(CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.JobHangTimeout)}"] = options.JobHangTimeout.ToString("c", CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.JobPendingTimeout)}"] = options.JobPendingTimeout.ToString("c", CultureInfo.InvariantCulture),
            [$"{CoordinatorOptions.SectionName}:{nameof(options.ProvisionerPsk)}"] = options.ProvisionerPsk,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Hangfire", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        builder.AddCoordinator();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenOnCoordinatorAddresses(options));

        await using var app = builder.Build();
        app.MapCoordinator();
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
        PrintBanner(settings);

        // The host's console lifetime turns SIGINT/SIGTERM into a graceful stop.
        await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    private static void PrintBanner(CoordinatorOptions settings)
    {
        var grpc = settings.HttpAddress.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? settings.HttpAddress : settings.GrpcAddress;
        var session = Path.Combine(settings.HomeDirectory, "session");
        var api = settings.HttpAddress + ApiHostingExtensions.BasePath;
        var database = string.IsNullOrWhiteSpace(settings.PostgresUrl)
            ? "built-in PostgreSQL under " + Path.Combine(settings.HomeDirectory, "postgres")
            : "the one given by --postgres-url";
        var pskHint = string.IsNullOrEmpty(settings.ProvisionerPsk)
            ? "(or start the server with --provisioner-psk and pass --psk instead of --key)"
            : "(or pass --psk with the pre-shared key this server was given)";
        const string KeyRequest = """{"name":"my-fleet","tags":{}}""";
        Console.WriteLine($"""

            Provisioning coordinator is running.
              REST API:       {api}  (OpenAPI document: {settings.HttpAddress}/openapi/v1.json)
              Daemons (gRPC): {grpc}
              Database:       {database}
              Admin token:    {session}  (written on the first start, readable by this user only)
                              e.g. curl -H "Authorization: Bearer $(cat {session})" {api}/users/me

            Start an external provisioner daemon (on any machine that reaches this one):
              1. create a key:  curl -X POST -H "Authorization: Bearer $(cat {session})" -H "Content-Type: application/json" -d '{KeyRequest}' {api}/provisioner-keys
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

    private static string NextPort(string httpAddress)
    {
        var uri = new Uri(httpAddress);
        return $"http://{uri.Host}:{uri.Port + 1}";
    }
}
