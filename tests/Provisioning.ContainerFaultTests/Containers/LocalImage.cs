using System.Security.Cryptography;

using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Images;

namespace Provisioning.ContainerFaultTests.Containers;

/// <summary>
/// The container fault tests' images, built locally with Testcontainers from a Dockerfile under Images/ (copied beside
/// the tests), FROM the offline Debian base: no registry can be reached here. Each is built once: its tag is a hash of
/// its folder's files, so the image of the same files is reused (by later runs and by CI's step) and a changed file
/// builds a new one; images of older files are removed.
/// </summary>
internal static class LocalImage
{
    public const string BaseImage = "provisioning/debian-base:bookworm";

    /// <summary>The test classes start their fleets in parallel: one build of an image at a time, the second finds it built.</summary>
    private static readonly SemaphoreSlim Building = new(1, 1);

    /// <summary>The folder that holds each image's Dockerfile, beside the tests.</summary>
    public static string ImagesDirectory => Path.Combine(AppContext.BaseDirectory, "Images");

    /// <summary>Builds provisioning/fault-&lt;<paramref name="name"/>&gt;:&lt;hash&gt; from Images/<paramref name="name"/> unless it exists; returns its name and what it removed.</summary>
    public static async Task<(string Image, IReadOnlyList<string> Removed)> BuildAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var context = Path.Combine(ImagesDirectory, name);
        var repository = $"provisioning/fault-{name}";
        var image = $"{repository}:{ContentHash(context)}";
        await Building.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await BuildMissingAsync(context, image, labels, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Building.Release();
        }

        return (image, await DockerEngine.RemoveStaleImagesAsync(repository, image, cancellationToken).ConfigureAwait(false));
    }

    private static async Task BuildMissingAsync(string context, string image, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        if (!await DockerEngine.ImageExistsAsync(image, cancellationToken).ConfigureAwait(false))
        {
            if (!await DockerEngine.ImageExistsAsync(BaseImage, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The base image {BaseImage} is missing: make it with ./scripts/docker-base-image.sh (debootstrap from Debian's mirror; no registry is needed).");
            }

            // Host networking for the build: the engine has no bridge (--bridge=none), and apt must reach Debian's mirror.
            var built = new ImageFromDockerfileBuilder()
                .WithDockerfileDirectory(context)
                .WithDockerfile("Dockerfile")
                .WithName(image)
                .WithLabel(labels)
                .WithCleanUp(false)
                .WithDeleteIfExists(false)
                .WithImageBuildPolicy(PullPolicy.Missing)
                .WithCreateParameterModifier(parameters => parameters.NetworkMode = "host")
                .Build();
            await built.CreateAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first 12 hex digits of the SHA-256 over the folder's file names and contents.</summary>
    private static string ContentHash(string directory)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file)));
            hash.AppendData(File.ReadAllBytes(file));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }
}
