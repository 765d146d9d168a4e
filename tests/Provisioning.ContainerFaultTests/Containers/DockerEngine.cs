using System.Net.Sockets;
using System.Text.Json;

using Docker.DotNet;
using Docker.DotNet.Models;

using DotNet.Testcontainers.Configurations;

namespace Provisioning.ContainerFaultTests.Containers;

/// <summary>
/// The Docker engine the container fault tests use, through Testcontainers' own client: whether one answers (and why
/// not), and what Testcontainers does not offer: `docker kill`, and the removal of containers an earlier run left.
/// Ryuk, Testcontainers' reaper, is off (its image cannot be pulled here): every container carries
/// <see cref="Label"/> and the run's root in <see cref="RootLabel"/>, and the fleet removes its own containers, and at
/// start those whose run's root is gone (the run that made them died without cleaning up).
/// </summary>
internal static class DockerEngine
{
    public const string Label = "io.provisioning.tests";
    public const string LabelValue = "container-faults";
    public const string RootLabel = "io.provisioning.tests.root";

    /// <summary>The Docker API version Testcontainers' client (Docker.DotNet.Enhanced) speaks unless told otherwise.</summary>
    private static readonly System.Version ClientApiVersion = new(1, 44);

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Null when an engine answers; otherwise why not, with what to do. Called first: it also configures
    /// Testcontainers (Ryuk off, the engine's API version) before any other Testcontainers call reads its settings.
    /// </summary>
    public static async Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken)
    {
        try
        {
            await UseTheEnginesApiVersionAsync(cancellationToken).ConfigureAwait(false);

            // Ryuk's image (testcontainers/ryuk) cannot be pulled here; the fleet removes what it made itself.
            TestcontainersSettings.ResourceReaperEnabled = false;
            using var client = CreateClient();
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(PingTimeout);
            await client.System.PingAsync(bounded.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return $"No Docker engine answers ({exception.GetType().Name}: {exception.Message}). Start one with ./scripts/docker-engine.sh "
                + "(as root; apt-get install docker.io), then build the base image with ./scripts/docker-base-image.sh.";
        }
    }

    /// <summary>Whether <paramref name="image"/> exists in the engine.</summary>
    public static async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        try
        {
            await client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Whether a container of that id exists (in any state).</summary>
    public static async Task<bool> ContainerExistsAsync(string id, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        try
        {
            await client.Containers.InspectContainerAsync(id, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DockerContainerNotFoundException)
        {
            return false;
        }
    }

    /// <summary>`docker kill`: SIGKILL to every process of the container at once, the machine's power cut.</summary>
    public static async Task KillAsync(string containerId, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        await client.Containers.KillContainerAsync(containerId, new ContainerKillParameters { Signal = "KILL" }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes (forced) the tests' containers whose run root is <paramref name="root"/>, or, with null, whose run root no longer exists.</summary>
    public static async Task<IReadOnlyList<string>> RemoveContainersAsync(string? root, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        var listed = await client.Containers.ListContainersAsync(
            new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{Label}={LabelValue}"] = true } },
            },
            cancellationToken).ConfigureAwait(false);
        var removed = new List<string>();
        foreach (var container in listed)
        {
            var owner = container.Labels.TryGetValue(RootLabel, out var value) ? value : string.Empty;
            if (root is null ? owner.Length > 0 && Directory.Exists(owner) : owner != root)
            {
                continue;
            }

            await client.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancellationToken).ConfigureAwait(false);
            removed.Add($"{string.Join(",", container.Names)} ({container.Image}, {container.State})");
        }

        return removed;
    }

    /// <summary>Removes the tests' images of <paramref name="repository"/> other than <paramref name="keep"/>: builds of an older Dockerfile.</summary>
    public static async Task<IReadOnlyList<string>> RemoveStaleImagesAsync(string repository, string keep, CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        var images = await client.Images.ListImagesAsync(
            new ImagesListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { [repository] = true } } },
            cancellationToken).ConfigureAwait(false);
        var removed = new List<string>();
        foreach (var tag in images.SelectMany(image => image.RepoTags ?? []).Where(tag => tag != keep))
        {
            await client.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = true }, cancellationToken).ConfigureAwait(false);
            removed.Add(tag);
        }

        return removed;
    }

    /// <summary>
    /// Testcontainers' client speaks Docker API 1.44 and gives up on an engine that speaks less (Debian bookworm's
    /// docker.io 20.10 speaks 1.41 and answers "client version 1.44 is too new"). Unless DOCKER_API_VERSION says
    /// otherwise, ask the engine on its Unix socket which version it speaks (GET /version needs none) and use that one
    /// when it is older: every engine serves its own version.
    /// </summary>
    private static async Task UseTheEnginesApiVersionAsync(CancellationToken cancellationToken)
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is { Length: > 0 } || (host is { Length: > 0 } && !host.StartsWith("unix://", StringComparison.Ordinal)))
        {
            return;
        }

        var socket = host is { Length: > 0 } ? host["unix://".Length..] : "/var/run/docker.sock";
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await unix.ConnectAsync(new UnixDomainSocketEndPoint(socket), token).ConfigureAwait(false);
                return new NetworkStream(unix, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://docker"), Timeout = PingTimeout };
        string answer;
        try
        {
            answer = await http.GetStringAsync(new Uri("/version", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or SocketException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"nothing answers on {socket}: {exception.Message}", exception);
        }

        using var version = JsonDocument.Parse(answer);
        if (version.RootElement.TryGetProperty("ApiVersion", out var api) && System.Version.TryParse(api.GetString(), out var engine) && engine < ClientApiVersion)
        {
            Environment.SetEnvironmentVariable("DOCKER_API_VERSION", api.GetString());
        }
    }

    private static DockerClient CreateClient() =>
        TestcontainersSettings.OS.DockerEndpointAuthConfig.GetDockerClientBuilder(Guid.NewGuid()).Build();
}
