using System.Globalization;
using System.Runtime.InteropServices;

using Docker.DotNet.Models;

using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;

using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Fleet;

namespace Provisioning.ContainerFaultTests.Containers;

/// <summary>
/// The fault suite's fleet with real machine boundaries: PostgreSQL in its own container, each provisioner daemon in its
/// own container, the coordinator (`provisioning server`) on the host. Every container shares the host's network (the
/// engine runs with --bridge=none, and the tests' traffic stays on 127.0.0.1). The daemons' containers run the
/// `provisioning` executable built beside the tests with the host's .NET runtime and Terraform, all bind-mounted
/// read-only, on an image made from the offline Debian base (see the README for why not a self-contained publish).
/// </summary>
internal sealed class ContainerFleet : IFaultFleet, IAsyncDisposable
{
    private readonly FaultRunOptions _options;
    private readonly RunLog _log;
    private readonly CoordinatorProcess _coordinator;
    private readonly List<DaemonContainer> _daemons = [];
    private readonly Dictionary<string, string> _labels;
    private readonly string _terraform;
    private string _daemonImage = string.Empty;
    private int _disposed;

    public ContainerFleet(FaultRunOptions options, string terraform, RunLog log)
    {
        _options = options;
        _log = log;
        _terraform = terraform;
        Root = RunDirectory.Create();
        _labels = new Dictionary<string, string>(StringComparer.Ordinal) { [DockerEngine.Label] = DockerEngine.LabelValue, [DockerEngine.RootLabel] = Root.Path };
        _coordinator = new CoordinatorProcess(options.CliPath, Root.Path, Root.Logs, options.HangTimeout, () => Postgres!.Url);
        Directory.CreateDirectory(MarkersRoot);
    }

    public RunDirectory Root { get; }

    public PostgresContainer Postgres { get; private set; } = null!;

    public CoordinatorApi Api => _coordinator.Api;

    public string MarkersRoot => Path.Combine(Root.Path, "workspaces");

    public IReadOnlyList<DaemonContainer> Daemons => _daemons;

    /// <summary>The container name prefix of this run: provisioning-faults-&lt;the root's suffix&gt;.</summary>
    private string NamePrefix => Path.GetFileName(Root.Path);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var stale in await RunDirectory.SweepStaleAsync().ConfigureAwait(false))
        {
            _log.Write($"removed the leftovers of an earlier run that did not clean up: {stale}");
        }

        foreach (var container in await DockerEngine.RemoveContainersAsync(null, cancellationToken).ConfigureAwait(false))
        {
            _log.Write($"removed the container of an earlier run that did not clean up: {container}");
        }

        var imageLabels = _labels.Where(label => label.Key == DockerEngine.Label).ToDictionary();
        var (image, staleImages) = await LocalImage.BuildAsync("postgres", imageLabels, cancellationToken).ConfigureAwait(false);
        (_daemonImage, var staleDaemonImages) = await LocalImage.BuildAsync("daemon", imageLabels, cancellationToken).ConfigureAwait(false);
        foreach (var stale in staleImages.Concat(staleDaemonImages))
        {
            _log.Write($"removed an image of an older Dockerfile: {stale}");
        }

        Postgres = new PostgresContainer(image, $"{NamePrefix}-postgres", CoordinatorProcess.FreePort(), _labels);
        _log.Write($"container fleet: PostgreSQL ({image}) on 127.0.0.1:{Postgres.Port}, coordinator on {_coordinator.Url} (gRPC :{_coordinator.GrpcPort}), root {Root.Path}");
        await Postgres.StartAsync(cancellationToken).ConfigureAwait(false);
        await _coordinator.StartAndSignInAsync(cancellationToken).ConfigureAwait(false);
        for (var i = 1; i <= _options.Daemons; i++)
        {
            await AddDaemonAsync(string.Create(CultureInfo.InvariantCulture, $"box-d{i}"), cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _coordinator.PushTemplateAsync(ProvisioningFleet.TemplateName, _options.TemplateDirectory, MarkersRoot, _options.SleepSeconds, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException($"{exception.Message}\n{await DaemonLogsAsync(40).ConfigureAwait(false)}", exception);
        }

        _log.Write($"container fleet: ready with daemons {string.Join(", ", _daemons)}; template '{ProvisioningFleet.TemplateName}' pushed");
    }

    /// <summary>The fleet's daemon that the coordinator knows as <paramref name="workerId"/>, if any.</summary>
    public async Task<DaemonContainer?> FindDaemonAsync(Guid workerId, CancellationToken cancellationToken)
    {
        var listed = await Api.ListDaemonsAsync(cancellationToken).ConfigureAwait(false);
        var name = listed.FirstOrDefault(daemon => daemon.Id == workerId)?.Name;
        return _daemons.FirstOrDefault(daemon => daemon.Name == name);
    }

    /// <summary><c>docker kill</c> of the daemon's whole machine: the daemon, Terraform and the template's scripts die at once.</summary>
    public async Task KillDaemonAsync(DaemonContainer daemon, CancellationToken cancellationToken)
    {
        daemon.Killed = true;
        await DockerEngine.KillAsync(daemon.Container.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>docker start</c> of a killed daemon's container: the same machine boots, with the same name, key and disk.</summary>
    public async Task RestartDaemonAsync(DaemonContainer daemon, CancellationToken cancellationToken)
    {
        await daemon.Container.StartAsync(cancellationToken).ConfigureAwait(false);
        daemon.Killed = false;
    }

    public async Task PauseDaemonAsync(DaemonContainer daemon, CancellationToken cancellationToken)
    {
        await daemon.Container.PauseAsync(cancellationToken).ConfigureAwait(false);
        daemon.Paused = true;
    }

    public async Task UnpauseDaemonAsync(DaemonContainer daemon, CancellationToken cancellationToken)
    {
        await daemon.Container.UnpauseAsync(cancellationToken).ConfigureAwait(false);
        daemon.Paused = false;
    }

    public async Task<IReadOnlyList<string>> HealAsync(CancellationToken cancellationToken)
    {
        var repairs = new List<string>();
        if (Postgres.Paused)
        {
            repairs.Add("PostgreSQL's container was paused: unpaused it");
            await Postgres.UnpauseAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Postgres.Stopped)
        {
            repairs.Add("PostgreSQL's container was stopped: started it");
            await Postgres.RestartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_coordinator.Server is not { HasExited: false })
        {
            repairs.Add($"the coordinator had exited (code {_coordinator.Server?.ExitCode}): restarted it");
            _coordinator.Start();
        }

        await _coordinator.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        foreach (var daemon in _daemons)
        {
            if (daemon.Paused)
            {
                repairs.Add($"daemon {daemon.Name}'s container was paused: unpaused it");
                await UnpauseDaemonAsync(daemon, cancellationToken).ConfigureAwait(false);
            }

            if (daemon.Killed || daemon.Container.State != TestcontainersStates.Running)
            {
                repairs.Add($"daemon {daemon.Name}'s container was {(daemon.Killed ? "killed" : daemon.Container.State.ToString())}: started it");
                await RestartDaemonAsync(daemon, cancellationToken).ConfigureAwait(false);
            }
        }

        return repairs;
    }

    /// <summary>The last lines each daemon's container printed, for a failure's message.</summary>
    public async Task<string> DaemonLogsAsync(int lines)
    {
        var text = new System.Text.StringBuilder();
        foreach (var daemon in _daemons)
        {
            try
            {
                var (stdout, stderr) = await daemon.Container.GetLogsAsync(timestampsEnabled: false).ConfigureAwait(false);
                var state = daemon.Container.State == TestcontainersStates.Running ? "running" : $"{daemon.Container.State}, exit code {await daemon.Container.GetExitCodeAsync().ConfigureAwait(false)}";
                text.AppendLine(CultureInfo.InvariantCulture, $"--- {daemon}, {state} (last {lines} lines)");
                foreach (var line in (stdout + stderr).Split('\n').TakeLast(lines))
                {
                    text.AppendLine(line);
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"--- {daemon}: its logs could not be read ({exception.Message})");
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _coordinator.Dispose();
        foreach (var daemon in _daemons)
        {
            await daemon.Container.DisposeAsync().ConfigureAwait(false);
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync().ConfigureAwait(false);
        }

        // Whatever Testcontainers could not remove (a container it lost track of) goes by its label.
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await DockerEngine.RemoveContainersAsync(Root.Path, bounded.Token).ConfigureAwait(false);
        if (_options.Keep)
        {
            Root.MarkKept();
            _log.Write($"container fleet: kept {Root.Path}: logs in {Root.Logs}");
        }
        else
        {
            await RunDirectory.RemoveAsync(Root.Path).ConfigureAwait(false);
        }
    }

    private async Task AddDaemonAsync(string name, CancellationToken cancellationToken)
    {
        var key = await _coordinator.CreateKeyAsync(name, cancellationToken).ConfigureAwait(false);
        var daemon = new DaemonContainer(name, key, Path.Combine(Root.Path, "daemons", name));
        Directory.CreateDirectory(daemon.Directory);
        daemon.Container = CreateDaemonContainer(daemon);
        _daemons.Add(daemon);
        await daemon.Container.StartAsync(cancellationToken).ConfigureAwait(false);
        await _coordinator.WaitUntilRegisteredAsync(name, () => daemon.Container.State == TestcontainersStates.Running, $"`docker logs {daemon.Container.Name.TrimStart('/')}`", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A daemon's container: the base image, host networking, `provisioning provisioner start` as its entrypoint
    /// (one slot, its own key through the environment, its own name and cache directory). Read-only mounts: the
    /// directory with the built `provisioning` (beside the tests), the host's .NET installation, Terraform. Writable:
    /// the daemon's own directory and the template's markers (both at their host paths).
    /// </summary>
    internal IContainer CreateDaemonContainer(DaemonContainer daemon)
    {
        var dotnetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var cliDirectory = Path.GetDirectoryName(_options.CliPath)!;
        var terraform = new FileInfo(_terraform).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? _terraform;
        return new ContainerBuilder(_daemonImage)
            .WithName($"{NamePrefix}-{daemon.Name}")
            .WithLabel(_labels)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithCreateParameterModifier(parameters => (parameters.HostConfig ??= new HostConfig()).NetworkMode = "host")
            .WithBindMount(dotnetRoot, dotnetRoot, AccessMode.ReadOnly)
            .WithBindMount(cliDirectory, cliDirectory, AccessMode.ReadOnly)
            .WithBindMount(terraform, "/usr/local/bin/terraform", AccessMode.ReadOnly)
            .WithBindMount(daemon.Directory, daemon.Directory, AccessMode.ReadWrite)
            .WithBindMount(MarkersRoot, MarkersRoot, AccessMode.ReadWrite)
            .WithEnvironment("DOTNET_ROOT", dotnetRoot)
            .WithEnvironment("HOME", daemon.Directory)
            .WithEnvironment("PROVISIONING_HOME", daemon.Directory)
            .WithEnvironment("PROVISIONING_PROVISIONER_KEY", daemon.Key)
            .WithWorkingDirectory(daemon.Directory)
            .WithEntrypoint(_options.CliPath)
            .WithCommand("provisioner", "start", "--url", _coordinator.Url.ToString(), "--name", daemon.Name, "--slots", "1",
                "--cache-dir", daemon.CacheDirectory, "--terraform-path", "/usr/local/bin/terraform")
            .Build();
    }
}
