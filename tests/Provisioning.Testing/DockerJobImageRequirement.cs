using Docker.DotNet;
using Docker.DotNet.Models;

using Xunit;

namespace Provisioning.Testing;

/// <summary>
/// A Docker engine with the job image (<c>scripts/docker-job-image.sh</c>) is required by the tests of the per-job
/// containers (<c>--isolation docker</c>) and of templates/docker. Without one they skip with the reason, except under
/// CI=true, where it is a failure (<c>.ci/run</c> starts the engine and builds the image).
/// </summary>
public static class DockerJobImageRequirement
{
    /// <summary>The job image <c>scripts/docker-job-image.sh</c> builds by default.</summary>
    public const string JobImage = "provisioning/terraform-job:latest";

    /// <summary>The base image <c>scripts/docker-base-image.sh</c> makes offline.</summary>
    public const string BaseImage = "provisioning/debian-base:bookworm";

    /// <summary>A client of the machine's engine that has <paramref name="image"/>; skips or fails the calling test otherwise.</summary>
    public static async Task<DockerClient> RequireAsync(string image = JobImage)
    {
        var (client, reason) = await ConnectAsync(image);
        if (client is not null)
        {
            return client;
        }

        if (SharedFolder.IsCi)
        {
            Assert.Fail($"The Docker tests need an engine with {image}: {reason}. Under CI=true that is a failure (.ci/run sets it up).");
        }

        Assert.Skip($"The Docker tests need an engine with {image}: {reason}.");
        return null!;
    }

    /// <summary>A client of the machine's engine that has <paramref name="image"/>, or null and why not (for fixtures, which must not skip).</summary>
    public static async Task<(DockerClient? Client, string Reason)> ConnectAsync(string image = JobImage)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/var/run/docker.sock") && Environment.GetEnvironmentVariable("DOCKER_HOST") is not { Length: > 0 })
        {
            return (null, "no Docker engine answers here (start one with ./scripts/docker-engine.sh)");
        }

        var client = new DockerClientConfiguration().CreateClient();
        string reason;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await client.System.PingAsync(timeout.Token);
            await client.Images.InspectImageAsync(image, timeout.Token);
            return (client, "");
        }
        catch (DockerImageNotFoundException)
        {
            reason = $"the image {image} is missing (build it: ./scripts/docker-base-image.sh && ./scripts/docker-job-image.sh)";
        }
        catch (Exception exception) when (exception is HttpRequestException or DockerApiException or IOException or TimeoutException or OperationCanceledException)
        {
            reason = $"no Docker engine answers here ({exception.Message}; start one with ./scripts/docker-engine.sh)";
        }

        client.Dispose();
        return (null, reason);
    }

    /// <summary>The containers (running or not) whose label <paramref name="label"/> has a value starting with <paramref name="valuePrefix"/>.</summary>
    public static async Task<IList<ContainerListResponse>> ContainersAsync(DockerClient client, string label, string valuePrefix)
    {
        ArgumentNullException.ThrowIfNull(client);
        var all = await client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [label] = true } },
        });
        return all.Where(container => container.Labels.TryGetValue(label, out var value) && value.StartsWith(valuePrefix, StringComparison.Ordinal)).ToList();
    }
}
