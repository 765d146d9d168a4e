using System.Globalization;
using System.Text.Json;

using Docker.DotNet;
using Docker.DotNet.Models;

using Version = System.Version;

namespace Provisioning.Terraform.Sandbox;

/// <summary>
/// Runs each Terraform command of a job in a fresh container of the job image (<see cref="TerraformOptions.JobImage"/>),
/// through the Docker engine's API: the container sees the image's filesystem, the job's work directory (read-write)
/// and the plugin cache and Terraform's configuration (read-only except for <c>init</c>), at their real paths; not the
/// daemon's files, key, environment or processes. It runs as the daemon's uid:gid with no capabilities, under the
/// memory and CPU limits, on the host's network, and is removed when the command ends. Why this design and what it
/// costs: <c>docs/decisions/0014-per-job-containers.md</c>.
/// </summary>
internal sealed class DockerJobSandbox
{
    /// <summary>Every job container carries this label; its value is the job's work directory.</summary>
    public const string JobLabel = TerraformSandbox.JobContainerLabel;

    /// <summary>PATH inside the job container (the image's Terraform is in /usr/local/bin).</summary>
    private const string ContainerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>HOME inside the job container: an empty tmpfs, as the bubblewrap sandbox's home is.</summary>
    private const string ContainerHome = "/home/provisioning";

    private readonly DockerClient _client;
    private readonly TerraformOptions _options;
    private readonly string _user;

    private DockerJobSandbox(DockerClient client, Uri endpoint, TerraformOptions options, string user)
    {
        _client = client;
        _options = options;
        _user = user;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    /// <summary>The Terraform version in the job image, which runs every command.</summary>
    public Version TerraformVersion { get; private set; } = new();

    public override string ToString()
    {
        var memory = _options.JobMemoryBytes is { } bytes ? $"{bytes / (1024 * 1024)} MiB" : "no memory limit";
        var cpus = _options.JobCpus is { } count ? count.ToString("0.##", CultureInfo.InvariantCulture) + " CPUs" : "no CPU limit";
        return $"job container (image {_options.JobImage}, Terraform {TerraformVersion}, {memory}, {cpus}, engine {Endpoint})";
    }

    /// <summary>The engine the daemon talks to: <see cref="TerraformOptions.DockerHost"/>, else <c>DOCKER_HOST</c>, else the local socket.</summary>
    public static Uri EngineEndpoint(TerraformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.DockerHost ?? System.Environment.GetEnvironmentVariable("DOCKER_HOST");
        return new Uri(configured is { Length: > 0 } ? configured : "unix:///var/run/docker.sock");
    }

    /// <summary>
    /// Connects to the engine, checks the job image, and runs a command in a job container built exactly as Terraform's
    /// will be (it writes its work directory and reports the image's Terraform version). Returns the sandbox, or null
    /// with the reason it cannot be used.
    /// </summary>
    public static async Task<(DockerJobSandbox? Sandbox, string Reason)> ProbeAsync(TerraformOptions options, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "job containers run on Linux only");
        }

        var endpoint = EngineEndpoint(options);
        if (endpoint.Scheme == "unix" && !File.Exists(endpoint.AbsolutePath))
        {
            return (null, $"no Docker engine answers at {endpoint} (the socket does not exist; start one, e.g. ./scripts/docker-engine.sh, or set DOCKER_HOST)");
        }

        var client = new DockerClientConfiguration(endpoint, defaultTimeout: TimeSpan.FromMinutes(5)).CreateClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await client.System.PingAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or DockerApiException or IOException or TimeoutException
            or System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            return (null, $"no Docker engine answers at {endpoint} ({exception.Message})");
        }

        try
        {
            await client.Images.InspectImageAsync(options.JobImage, timeout.Token).ConfigureAwait(false);
        }
        catch (DockerImageNotFoundException)
        {
            client.Dispose();
            return (null, $"the job image {options.JobImage} is not on the engine at {endpoint}; build it with ./scripts/docker-job-image.sh (or name another with --job-image)");
        }

        var sandbox = new DockerJobSandbox(client, endpoint, options, CurrentUser());
        var probeDirectory = Path.Combine(Path.GetTempPath(), "provisioning-job-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(probeDirectory);
        try
        {
            var errors = new List<string>();
            var exitCode = await sandbox.RunAsync(
                probeDirectory,
                ["/bin/sh", "-c", "terraform version -json > probe.json"],
                new Dictionary<string, string?>(),
                readOnly: [],
                readWrite: [],
                (_, _) => Task.CompletedTask,
                (line, _) =>
                {
                    errors.Add(line);
                    return Task.CompletedTask;
                },
                CancellationToken.None,
                timeout.Token).ConfigureAwait(false);
            var probe = Path.Combine(probeDirectory, "probe.json");
            if (exitCode != 0 || !File.Exists(probe))
            {
                client.Dispose();
                return (null, $"a job container of {options.JobImage} failed its self-test (exit code {exitCode}{(errors.Count > 0 ? ": " + string.Join(" ", errors) : "")}); " +
                    "the image needs /bin/sh and terraform on PATH, and the daemon's user must be able to write its work directory from it");
            }

            using var version = JsonDocument.Parse(await File.ReadAllTextAsync(probe, cancellationToken).ConfigureAwait(false));
            if (!version.RootElement.TryGetProperty("terraform_version", out var text) || !Version.TryParse(text.GetString(), out var parsed))
            {
                client.Dispose();
                return (null, $"the terraform of job image {options.JobImage} did not report its version; rebuild the image with ./scripts/docker-job-image.sh");
            }

            sandbox.TerraformVersion = parsed;
            return (sandbox, "");
        }
        catch (Exception exception) when (exception is DockerApiException or HttpRequestException or IOException or JsonException
            or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            return (null, $"a job container of {options.JobImage} could not run: {exception.Message}");
        }
        finally
        {
            try
            {
                Directory.Delete(probeDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover probe directory in /tmp is harmless.
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="command"/> in a new job container and returns its exit code. <paramref name="interrupt"/>
    /// sends SIGINT to the container's main process (Terraform, PID 1 of the container, which handles it and saves its
    /// state); <paramref name="kill"/> sends SIGKILL, which ends every process of the container. The container is removed
    /// whatever happens, with its writable layer: nothing of the command outlives it but the work directory.
    /// </summary>
    /// <param name="environment">The sandbox's environment (<see cref="SandboxView.Environment"/>); null values are left out.</param>
    public async Task<int> RunAsync(
        string workDirectory,
        IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyList<string> readOnly,
        IReadOnlyList<string> readWrite,
        Func<string, CancellationToken, Task> stdout,
        Func<string, CancellationToken, Task> stderr,
        CancellationToken interrupt,
        CancellationToken kill)
    {
        var mounts = new List<Mount>();
        mounts.AddRange(readWrite.Select(path => new Mount { Type = "bind", Source = path, Target = path, ReadOnly = false }));
        mounts.AddRange(readOnly.Select(path => new Mount { Type = "bind", Source = path, Target = path, ReadOnly = true }));
        mounts.Add(new Mount { Type = "bind", Source = workDirectory, Target = workDirectory, ReadOnly = false });
        var variables = environment
            .Where(pair => pair.Value is not null && pair.Key is not "PATH" and not "HOME")
            .Select(pair => pair.Key + "=" + pair.Value)
            .Append("PATH=" + ContainerPath)
            .Append("HOME=" + ContainerHome)
            .ToList();
        var created = await _client.Containers.CreateContainerAsync(
            new CreateContainerParameters
            {
                Name = "provisioning-job-" + Guid.NewGuid().ToString("N")[..12],
                Image = _options.JobImage,
                Cmd = command.ToList(),
                Env = variables,
                WorkingDir = workDirectory,
                User = _user,
                AttachStdout = true,
                AttachStderr = true,
                Tty = false,
                Labels = new Dictionary<string, string> { [JobLabel] = workDirectory },
                HostConfig = new HostConfig
                {
                    // The engine here runs without a bridge or iptables (decision 0014): the host's network, as the
                    // bubblewrap sandbox and an unsandboxed Terraform have.
                    NetworkMode = "host",
                    Mounts = mounts,
                    Tmpfs = new Dictionary<string, string> { ["/tmp"] = "mode=1777", [ContainerHome] = "mode=1777" },
                    CapDrop = ["ALL"],
                    SecurityOpt = ["no-new-privileges"],
                    Memory = _options.JobMemoryBytes ?? 0,
                    // Swap as much as memory: the limit is the limit, not twice it.
                    MemorySwap = _options.JobMemoryBytes ?? 0,
                    NanoCPUs = _options.JobCpus is { } cpus ? (long)(cpus * 1e9) : 0,
                },
            },
            CancellationToken.None).ConfigureAwait(false);
        var id = created.ID;
        try
        {
            using var stream = await _client.Containers.AttachContainerAsync(
                id, tty: false, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, CancellationToken.None).ConfigureAwait(false);
            await _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None).ConfigureAwait(false);
            await using var interruptRegistration = interrupt.Register(() => _ = SignalAsync(id, "SIGINT")).ConfigureAwait(false);
            await using var killRegistration = kill.Register(() => _ = SignalAsync(id, "SIGKILL")).ConfigureAwait(false);
            if (interrupt.IsCancellationRequested)
            {
                // Canceled while the container was being made: the registration ran before there was anything to signal.
                await SignalAsync(id, "SIGINT").ConfigureAwait(false);
            }

            var outLines = new OutputLines(stdout);
            var errLines = new OutputLines(stderr);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
                if (read.EOF)
                {
                    break;
                }

                var lines = read.Target == MultiplexedStream.TargetStream.StandardError ? errLines : outLines;
                await lines.AddAsync(buffer.AsMemory(0, read.Count), CancellationToken.None).ConfigureAwait(false);
            }

            await outLines.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await errLines.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            var exit = await _client.Containers.WaitContainerAsync(id, CancellationToken.None).ConfigureAwait(false);
            return (int)exit.StatusCode;
        }
        finally
        {
            await RemoveAsync(id).ConfigureAwait(false);
        }
    }

    private async Task SignalAsync(string id, string signal)
    {
        try
        {
            await _client.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = signal }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is DockerApiException or HttpRequestException or IOException)
        {
            // The container already ended (409: not running) or is gone: nothing left to signal.
        }
    }

    private async Task RemoveAsync(string id)
    {
        try
        {
            // Force: a container still running here (the daemon gave up on it) is killed first.
            await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is DockerContainerNotFoundException or HttpRequestException or IOException)
        {
            // Already gone, or the engine went away: a leftover carries JobLabel, so an operator can find it.
        }
    }

    /// <summary>The daemon's real uid:gid (from /proc/self/status): the container writes the work directory as its owner.</summary>
    private static string CurrentUser()
    {
        string Field(string name) => File.ReadLines("/proc/self/status")
            .First(line => line.StartsWith(name + ":", StringComparison.Ordinal))
            .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[1];
        return Field("Uid") + ":" + Field("Gid");
    }
}
