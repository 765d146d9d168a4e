using System.CommandLine;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;
using Provisioning.Cli.Hosting;
using Provisioning.Daemon;
using Provisioning.Daemon.Hosting;

namespace Provisioning.Cli.Commands;

/// <summary><c>provisioning provisioner start|list|keys</c>: run a daemon, see the fleet, manage provisioner keys.</summary>
internal static class ProvisionerCommand
{
    public static Command Create() => new("provisioner", "Run a provisioner daemon, list the fleet, manage provisioner keys.")
    {
        CreateStart(),
        CreateList(),
        new Command("keys", "Provisioner keys: credentials daemons start with; a key's tags become its daemons' tags.") { CreateKeysCreate(), CreateKeysList(), CreateKeysDelete() },
    };

    private static Command CreateStart()
    {
        var url = Env(new Option<string?>("--url") { Description = "The coordinator's URL (its REST address; the daemon asks it for the gRPC address) or its gRPC address." }, CliConfig.UrlVariable);
        var key = new SecretOption("--key", "PROVISIONING_PROVISIONER_KEY", "A provisioner key (from `provisioning provisioner keys create`).");
        var psk = new SecretOption("--psk", "PROVISIONING_PROVISIONER_PSK", "The coordinator's pre-shared key (its --provisioner-psk), instead of --key.");
        var tags = CliCommon.KeyValueOption("--tag", "A tag key=value this daemon offers (repeatable); refused with --key, whose tags apply.");
        var name = Env(new Option<string?>("--name") { Description = "The daemon's name, unique in the fleet (default: the host name)." }, "PROVISIONING_PROVISIONER_NAME");
        var slots = new Option<int>("--slots") { Description = "How many jobs run at once (1..64). [env: PROVISIONING_PROVISIONER_SLOTS]", DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("PROVISIONING_PROVISIONER_SLOTS"), out var n) ? n : 1 };
        var cacheDir = Env(new Option<string?>("--cache-dir") { Description = "Job work directories and Terraform's plugin cache (default: ~/.cache/provisioning)." }, "PROVISIONING_CACHE_DIR");
        var terraformPath = Env(new Option<string?>("--terraform-path") { Description = "The terraform (or tofu) executable (default: terraform on PATH)." }, "PROVISIONING_TERRAFORM_PATH");
        var terraformVersion = Env(new Option<string?>("--terraform-version") { Description = "Install this Terraform version (e.g. 1.11.4) into the cache when missing and use it; its SHA256SUMS must carry HashiCorp's signature." }, "PROVISIONING_TERRAFORM_VERSION");
        var terraformMirror = Env(new Option<string?>("--terraform-mirror") { Description = "Download --terraform-version from this mirror of releases.hashicorp.com (same layout), e.g. for air-gapped sites." }, "PROVISIONING_TERRAFORM_MIRROR");
        var terraformSigningKey = Env(new Option<string?>("--terraform-signing-key-file") { Description = "OpenPGP public key your mirror signs releases with (default: HashiCorp's release key)." }, "PROVISIONING_TERRAFORM_SIGNING_KEY_FILE");
        var providerMirror = Env(new Option<string?>("--provider-mirror") { Description = "Install providers only from this directory (the layout `terraform providers mirror DIR` writes), never from a registry." }, "PROVISIONING_PROVIDER_MIRROR");
        var terraformCliConfig = Env(new Option<string?>("--terraform-cli-config") { Description = "A Terraform CLI configuration file for every run (TF_CLI_CONFIG_FILE): provider_installation, registry credentials." }, "PROVISIONING_TERRAFORM_CLI_CONFIG");
        var logJson = new Option<bool>("--log-json") { Description = "Log JSON lines. [env: PROVISIONING_LOG_JSON]", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PROVISIONING_LOG_JSON") is "1" or "true" };
        var metrics = Env(new Option<string?>("--metrics-address") { Description = "Serve Prometheus /metrics here, e.g. 127.0.0.1:2112 (default: off)." }, "PROVISIONING_METRICS_ADDRESS");
        var drainTimeout = Env(new Option<string?>("--drain-timeout") { Description = "On SIGTERM, how long running jobs may finish before they are canceled gracefully and their states reported, e.g. 2h, 30m, 0s (default: 2h)." }, "PROVISIONING_DRAIN_TIMEOUT");
        var health = Env(new Option<string?>("--health-address") { Description = "Serve /healthz and /readyz here, e.g. 0.0.0.0:8080 (default: off)." }, "PROVISIONING_HEALTH_ADDRESS");
        var sandbox = new Option<string?>("--isolation", "--sandbox")
        {
            Description = "How Terraform is isolated from this machine: none (default), docker (a fresh container of --job-image per command), bubblewrap (a sandbox), auto (docker, else bubblewrap, else none with a warning). Required modes refuse to start when they do not work. [env: PROVISIONING_ISOLATION]",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PROVISIONING_ISOLATION") is { Length: > 0 } isolation ? isolation
                : Environment.GetEnvironmentVariable("PROVISIONING_SANDBOX") is { Length: > 0 } older ? older : null,
        };
        var jobImage = Env(new Option<string?>("--job-image") { Description = $"The image of the job containers of --isolation docker (default: {Terraform.TerraformOptions.DefaultJobImage}, built by scripts/docker-job-image.sh)." }, "PROVISIONING_JOB_IMAGE");
        var jobMemory = Env(new Option<string?>("--job-memory") { Description = "Memory limit of a job container, e.g. 512MiB or 2GiB (default: none)." }, "PROVISIONING_JOB_MEMORY");
        var jobCpus = Env(new Option<string?>("--job-cpus") { Description = "CPUs a job container may use, e.g. 1 or 0.5 (default: no limit)." }, "PROVISIONING_JOB_CPUS");
        var provisioners = CliCommon.KeyValueOption("--provisioner", "Also offer the provisioner NAME served by the binary PATH (NAME=PATH, repeatable): the daemon runs `PATH --socket SOCKET`, talks provisioner.proto to it, restarts it when it exits and stops it on shutdown. Templates pushed with --provisioner NAME run on it.");
        var bwrapPath = Env(new Option<string?>("--bwrap-path") { Description = "The bubblewrap executable (default: bwrap on PATH)." }, "PROVISIONING_BWRAP_PATH");
        var command = new Command("start", "Run a provisioner daemon: pull jobs from the coordinator and run them with Terraform. SIGTERM drains (running jobs finish, within --drain-timeout); Ctrl+C cancels running jobs gracefully.")
        {
            url, key.Value, key.File, psk.Value, psk.File, tags, name, slots, cacheDir, terraformPath, terraformVersion, terraformMirror, terraformSigningKey, providerMirror, terraformCliConfig, logJson, metrics, health, sandbox, jobImage, jobMemory, jobCpus, bwrapPath, drainTimeout, provisioners,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Uri coordinator;
            Dictionary<string, string> tagValues;
            Dictionary<string, string> binaries;
            string? keyValue;
            string? pskValue;
            Terraform.Sandbox.TerraformSandboxMode sandboxMode;
            long? jobMemoryBytes = null;
            double? jobCpuCount = null;
            TimeSpan? drain;
            Daemon.Coordinator.CoordinatorClientTls tls;
            Uri? mirror = null;
            try
            {
                drain = parse.GetValue(drainTimeout) is { Length: > 0 } givenDrain ? ParseDrainTimeout(givenDrain) : null;
                var given = parse.GetValue(url) ?? throw new CliException($"Name the coordinator: --url http://host:3000 (or set {CliConfig.UrlVariable}).", 2);
                keyValue = key.Resolve(parse, Console.Error);
                pskValue = psk.Resolve(parse, Console.Error);
                sandboxMode = CliValues.ParseSandbox(parse.GetValue(sandbox) ?? "none", "--isolation");
                if (parse.GetValue(jobMemory) is { Length: > 0 } memoryText)
                {
                    jobMemoryBytes = CliValues.ParseSize(memoryText);
                }

                if (parse.GetValue(jobCpus) is { Length: > 0 } cpuText)
                {
                    jobCpuCount = double.TryParse(cpuText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var cpuCount)
                        ? cpuCount
                        : throw new CliException($"--job-cpus '{cpuText}' is not a number of CPUs: use e.g. 1 or 0.5.", 2);
                }

                if (sandboxMode is not (Terraform.Sandbox.TerraformSandboxMode.Docker or Terraform.Sandbox.TerraformSandboxMode.Auto)
                    && (parse.GetValue(jobImage) is { Length: > 0 } || jobMemoryBytes is not null || jobCpuCount is not null))
                {
                    throw new CliException("--job-image, --job-memory and --job-cpus set up job containers: use them with --isolation docker (or auto).", 2);
                }
                tagValues = CliCommon.ParsePairs(parse.GetValue(tags), "--tag");
                binaries = CliCommon.ParsePairs(parse.GetValue(provisioners), "--provisioner")
                    .ToDictionary(pair => pair.Key, pair => Path.GetFullPath(pair.Value), StringComparer.Ordinal);
                if (tagValues.Count > 0 && !string.IsNullOrEmpty(keyValue))
                {
                    throw new CliException("--tag cannot be used with --key: a provisioner key carries its tags (create the key with --tag instead).", 2);
                }

                if (parse.GetValue(terraformMirror) is { Length: > 0 } mirrorText)
                {
                    mirror = Uri.TryCreate(mirrorText, UriKind.Absolute, out var mirrorUrl) && mirrorUrl.Scheme is "http" or "https"
                        ? mirrorUrl
                        : throw new CliException($"--terraform-mirror '{mirrorText}' is not an http(s) URL: use e.g. https://releases.example.com (the layout of releases.hashicorp.com).", 2);
                }

                tls = CliTls.Resolve(parse);
                if (tls.Problem() is { } tlsProblem)
                {
                    throw new CliException(tlsProblem, 2);
                }

                coordinator = await ResolveGrpcAddressAsync(CliConfig.ParseUrl(given), tls, cancellationToken).ConfigureAwait(false);
            }
            catch (CliException exception)
            {
                await Console.Error.WriteLineAsync("error: " + exception.Message).ConfigureAwait(false);
                return exception.ExitCode;
            }
            catch (FormatException exception)
            {
                await Console.Error.WriteLineAsync("error: " + exception.Message).ConfigureAwait(false);
                return 2;
            }

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("Grpc", LogLevel.Warning);
            builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
            builder.AddTraceExport("provisioning-daemon", restRequests: false);
            builder.AddProvisionerDaemon(options =>
            {
                options.CoordinatorUrl = coordinator;
                options.Tls = tls;
                options.ProvisionerKey = keyValue;
                options.PreSharedKey = pskValue;
                foreach (var (tagKey, value) in tagValues)
                {
                    options.Tags[tagKey] = value;
                }

                foreach (var (type, path) in binaries)
                {
                    options.ProvisionerBinaries[type] = path;
                }

                options.Name = parse.GetValue(name) is { Length: > 0 } daemonName ? daemonName : options.Name;
                options.Slots = parse.GetValue(slots);
                options.CacheDirectory = parse.GetValue(cacheDir) is { Length: > 0 } cache ? Path.GetFullPath(cache) : options.CacheDirectory;
                options.TerraformPath = parse.GetValue(terraformPath);
                options.TerraformVersion = parse.GetValue(terraformVersion) is { Length: > 0 } version ? version : null;
                options.TerraformMirror = mirror;
                options.TerraformSigningKeyFile = parse.GetValue(terraformSigningKey) is { Length: > 0 } signingKey ? Path.GetFullPath(signingKey) : null;
                options.ProviderMirrorDirectory = parse.GetValue(providerMirror) is { Length: > 0 } providers ? Path.GetFullPath(providers) : null;
                options.TerraformCliConfigFile = parse.GetValue(terraformCliConfig) is { Length: > 0 } cliConfig ? Path.GetFullPath(cliConfig) : null;
                options.LogJson = parse.GetValue(logJson);
                options.MetricsAddress = parse.GetValue(metrics);
                options.HealthAddress = parse.GetValue(health);
                options.Sandbox = sandboxMode;
                options.BubblewrapPath = parse.GetValue(bwrapPath);
                options.JobImage = parse.GetValue(jobImage) is { Length: > 0 } image ? image : options.JobImage;
                options.JobMemoryBytes = jobMemoryBytes;
                options.JobCpus = jobCpuCount;
                if (drain is { } drainValue)
                {
                    options.DrainTimeout = drainValue;
                }
            });
            builder.Services.AddProvisioningSystemd();
            using var host = builder.Build();
            try
            {
                await host.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (OptionsValidationException exception)
            {
                await Console.Error.WriteLineAsync("error: invalid daemon settings: " + string.Join(" ", exception.Failures)).ConfigureAwait(false);
                return ProvisionerDaemonException.ConfigurationExitCode;
            }

            if (Environment.ExitCode != 0)
            {
                await Console.Error.WriteLineAsync($"error: the provisioner daemon stopped (exit code {Environment.ExitCode}); see the log line above for the reason.").ConfigureAwait(false);
            }

            return Environment.ExitCode;
        });
        return command;
    }

    private static TimeSpan ParseDrainTimeout(string value)
    {
        try
        {
            return CliValues.ParseDuration(value);
        }
        catch (Exception exception) when (exception is FormatException or OverflowException)
        {
            throw new CliException($"--drain-timeout: {exception.Message}", 2);
        }
    }

    /// <summary>
    /// A cleartext coordinator serves gRPC on its own port, which its REST API advertises; so a user passes the one
    /// URL they know. When the URL does not answer as a REST API (it is the gRPC address already, or the coordinator
    /// is not up yet), it is used as given and the daemon retries. Two answers end the start instead: a TLS handshake
    /// that fails (retrying cannot fix a certificate), and an https coordinator advertising cleartext gRPC (the daemon
    /// would send its key unencrypted: it never downgrades).
    /// </summary>
    private static async Task<Uri> ResolveGrpcAddressAsync(Uri url, Daemon.Coordinator.CoordinatorClientTls tls, CancellationToken cancellationToken)
    {
        using var client = ProvisioningClient.Create(url, token: null, tls);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        BuildInfo info;
        try
        {
            info = await client.GetBuildInfoAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (url.Scheme == Uri.UriSchemeHttps && Daemon.Coordinator.CoordinatorClientTls.DescribeHandshakeFailure(exception, url) is { } handshake)
        {
            throw new CliException(handshake, 2);
        }
        catch (Exception exception) when (exception is ProvisioningApiException or OperationCanceledException or System.Text.Json.JsonException or HttpRequestException)
        {
            return new Uri(url.ToString().TrimEnd('/'));
        }

        if (!Uri.TryCreate(info.GrpcAddress, UriKind.Absolute, out var advertised))
        {
            return new Uri(url.ToString().TrimEnd('/'));
        }

        if (url.Scheme == Uri.UriSchemeHttps && advertised.Scheme != Uri.UriSchemeHttps)
        {
            throw new CliException(
                $"The coordinator at {url.GetLeftPart(UriPartial.Authority)} is https but advertises cleartext gRPC ({info.GrpcAddress}); a daemon never sends its key unencrypted. "
                + "Serve gRPC over TLS on the coordinator (with --tls-cert-file, leave --grpc-address out or make it https://), or, on a network you trust, pass the cleartext gRPC address itself as --url.",
                2);
        }

        var grpc = new UriBuilder(advertised);
        if (grpc.Host is "0.0.0.0" or "[::]" or "::" or "*" or "+")
        {
            grpc.Host = url.Host;
        }

        return grpc.Uri;
    }

    private static Command CreateList()
    {
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List the provisioner daemons the coordinator knows, with their tags, status and current jobs.") { output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var daemons = await client.ListProvisionersAsync(cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(daemons);
                return 0;
            }

            CliConsole.Table(
                ["name", "status", "tags", "slots", "jobs", "key", "last seen"],
                daemons.Select(daemon => (IReadOnlyList<string>)[
                    daemon.Name, daemon.Status, TextTable.Tags(daemon.Tags), daemon.Slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    daemon.CurrentJobs.Count == 0 ? "-" : string.Join(",", daemon.CurrentJobs), daemon.KeyName ?? "(psk)", TextTable.Time(daemon.LastSeenAt)]));
            return 0;
        });
        return command;
    }

    private static Command CreateKeysCreate()
    {
        var name = new Argument<string>("name") { Description = "The key's name." };
        var tags = CliCommon.KeyValueOption("--tag", "A tag key=value for daemons started with this key (repeatable).");
        var output = CliCommon.OutputOption();
        var command = new Command("create", "Create a provisioner key; it is printed once, keep it.") { name, tags, output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var created = await client.CreateProvisionerKeyAsync(new CreateProvisionerKeyRequest(parse.GetValue(name)!, CliCommon.ParsePairs(parse.GetValue(tags), "--tag")), cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(created);
                return 0;
            }

            await Console.Error.WriteLineAsync($"Created provisioner key '{created.ProvisionerKey.Name}' (tags {TextTable.Tags(created.ProvisionerKey.Tags)}). It is shown only now:").ConfigureAwait(false);
            Console.WriteLine(created.Key);
            await Console.Error.WriteLineAsync($"Start a daemon with it: provisioning provisioner start --url {client.BaseAddress.ToString().TrimEnd('/')} --key <the key>").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreateKeysList()
    {
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List provisioner keys (names and tags; never the secrets).") { output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var keys = await client.ListProvisionerKeysAsync(cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(keys);
                return 0;
            }

            CliConsole.Table(["name", "tags", "created"], keys.Select(key => (IReadOnlyList<string>)[key.Name, TextTable.Tags(key.Tags), TextTable.Time(key.CreatedAt)]));
            return 0;
        });
        return command;
    }

    private static Command CreateKeysDelete()
    {
        var name = new Argument<string>("name") { Description = "The key's name." };
        var command = new Command("delete", "Delete a provisioner key; daemons using it can no longer connect.") { name };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            await client.DeleteProvisionerKeyAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Deleted provisioner key '{parse.GetValue(name)}'.");
            return 0;
        });
        return command;
    }

    private static Option<string?> Env(Option<string?> option, string variable)
    {
        option.Description += $" [env: {variable}]";
        option.DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
        return option;
    }
}
