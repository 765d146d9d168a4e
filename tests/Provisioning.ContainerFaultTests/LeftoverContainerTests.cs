using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Images;

using Provisioning.ContainerFaultTests.Containers;
using Provisioning.Testing;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// Ryuk is off, so the tests' own sweep is what keeps the engine clean: a container of a run whose root directory is
/// gone (a test host that was killed) is removed at the next start; one whose run is still going is left alone. Its
/// directories are not named provisioning-faults-*: the fleets' own sweep of dead runs' roots would take them.
/// </summary>
public sealed class LeftoverContainerTests
{
    [Fact]
    public async Task RemoveContainers_RunRootGone_RemovesItAndKeepsTheContainersOfLiveRuns()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        if (await DockerEngine.UnavailableReasonAsync(cancellationToken) is { } reason)
        {
            if (SharedFolder.IsCi)
            {
                Assert.Fail(reason + " Under CI=true this is a failure.");
            }

            Assert.Skip(reason);
        }

        var live = Directory.CreateTempSubdirectory("provisioning-sweep-live-");
        var gone = Path.Combine(Path.GetTempPath(), "provisioning-sweep-gone-" + Guid.NewGuid().ToString("N")[..12]);
        var orphan = Created(gone);
        var running = Created(live.FullName);
        try
        {
            await orphan.StartAsync(cancellationToken);
            await running.StartAsync(cancellationToken);

            var removed = await DockerEngine.RemoveContainersAsync(null, cancellationToken);

            Assert.Contains(removed, entry => entry.Contains(orphan.Name.TrimStart('/'), StringComparison.Ordinal));
            Assert.False(await DockerEngine.ContainerExistsAsync(orphan.Id, cancellationToken));
            Assert.True(await DockerEngine.ContainerExistsAsync(running.Id, cancellationToken));
        }
        finally
        {
            await running.DisposeAsync();
            await orphan.DisposeAsync();
            live.Delete();
        }
    }

    /// <summary>A container (sleeping) labelled as the fleet labels its own, for the run rooted at <paramref name="root"/>.</summary>
    private static DotNet.Testcontainers.Containers.IContainer Created(string root) =>
        new ContainerBuilder(LocalImage.BaseImage)
            .WithName(Path.GetFileName(root))
            .WithLabel(DockerEngine.Label, DockerEngine.LabelValue)
            .WithLabel(DockerEngine.RootLabel, root)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithEntrypoint("sleep").WithCommand("600")
            .Build();
}
