using System.Globalization;
using System.Security.Cryptography;

using Docker.DotNet.Models;

using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;

namespace Provisioning.ContainerFaultTests.Containers;

/// <summary>
/// The fleet's PostgreSQL as a machine of its own: a container of the image built from Images/postgres (FROM the
/// offline Debian base, Debian's postgresql-15 inside), sharing the host's network and listening on 127.0.0.1:<see cref="Port"/>
/// only. The faults act on the whole container: <c>docker pause</c> freezes every PostgreSQL process (connections stay
/// open and nothing answers: a hung or partitioned database), <c>docker stop</c> shuts it down (fast shutdown, see the
/// Dockerfile's STOPSIGNAL) and <c>docker start</c> brings the same cluster back.
/// </summary>
internal sealed class PostgresContainer : IAsyncDisposable
{
    private readonly string _password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private readonly IContainer _container;

    public PostgresContainer(string image, string name, int port, IReadOnlyDictionary<string, string> labels)
    {
        Port = port;
        var portText = port.ToString(CultureInfo.InvariantCulture);
        _container = new ContainerBuilder(image)
            .WithName(name)
            .WithLabel(labels)
            .WithEnvironment("POSTGRES_PASSWORD", _password)
            .WithEnvironment("POSTGRES_PORT", portText)
            .WithCreateParameterModifier(parameters => (parameters.HostConfig ??= new HostConfig()).NetworkMode = "host")
            .WithImagePullPolicy(PullPolicy.Never)
            // pg_isready over TCP on the port the coordinator uses: after a first start and after every restart.
            .WithWaitStrategy(Wait.ForUnixContainer().UntilCommandIsCompleted("/usr/lib/postgresql/15/bin/pg_isready", "-q", "-h", "127.0.0.1", "-p", portText))
            .Build();
    }

    public int Port { get; }

    /// <summary>The URL the coordinator gets through PROVISIONING_POSTGRES_URL.</summary>
    public string Url => string.Create(CultureInfo.InvariantCulture, $"postgres://provisioning:{_password}@127.0.0.1:{Port}/provisioning");

    public bool Paused { get; private set; }

    public bool Stopped { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken) => _container.StartAsync(cancellationToken);

    /// <summary><c>docker pause</c>: the cgroup freezer stops every process of the database; sockets stay open, nothing answers.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        await _container.PauseAsync(cancellationToken).ConfigureAwait(false);
        Paused = true;
    }

    public async Task UnpauseAsync(CancellationToken cancellationToken)
    {
        await _container.UnpauseAsync(cancellationToken).ConfigureAwait(false);
        Paused = false;
    }

    /// <summary><c>docker stop</c>: SIGINT, PostgreSQL's fast shutdown (every session is disconnected).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Stopped = true;
        await _container.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>docker start</c> of the stopped container: the same cluster, back when pg_isready answers.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await _container.StartAsync(cancellationToken).ConfigureAwait(false);
        Stopped = false;
    }

    public ValueTask DisposeAsync() => _container.DisposeAsync();
}
