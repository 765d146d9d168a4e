using System.Collections.Concurrent;

using Provisioning.ContainerFaultTests.Containers;
using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Fleet;
using Provisioning.Testing;

namespace Provisioning.ContainerFaultTests;

/// <summary>
/// One container fleet per test class (<see cref="ContainerFleet"/>), started once and torn down at the end; its
/// rounds use distinct workspaces (round-001, round-002, …). What the fleet needs and lacks (Linux, Terraform, a Docker
/// engine, the base image) is recorded as the reason the tests skip, or fail under CI=true.
/// </summary>
public sealed class ContainerFleetFixture : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _startLog = new();
    private string? _missing;
    private int _round;

    internal FaultRunOptions Options { get; } = FaultRunOptions.Parse([], _ => null) with { Rounds = 2 };

    internal ContainerFleet? Fleet { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            _missing = "The container fault tests run Linux containers and the fault suite's template (flock, /proc): Linux only.";
            return;
        }

        if (await DockerEngine.UnavailableReasonAsync(TestContext.Current.CancellationToken).ConfigureAwait(false) is { } reason)
        {
            _missing = reason;
            return;
        }

        if (!await DockerEngine.ImageExistsAsync(LocalImage.BaseImage, TestContext.Current.CancellationToken).ConfigureAwait(false))
        {
            _missing = $"The base image {LocalImage.BaseImage} is missing: make it with ./scripts/docker-base-image.sh (debootstrap from Debian's mirror, no registry needed).";
            return;
        }

        if (Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator).Select(directory => Path.Combine(directory, "terraform")).FirstOrDefault(File.Exists) is not { } terraform)
        {
            return; // Each test then fails (or skips) through TerraformRequirement, with its message.
        }

        Fleet = new ContainerFleet(Options, terraform, new RunLog(_startLog.Enqueue));
        try
        {
            await Fleet.StartAsync(TestContext.Current.CancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Nothing of a fleet that did not start may outlive the fixture (containers, the coordinator, the run's root).
            await Fleet.DisposeAsync().ConfigureAwait(false);
            Fleet = null;
            throw;
        }
    }

    /// <summary>The running fleet; skips the calling test (fails it under CI=true) with the reason when there is none.</summary>
    internal ContainerFleet Require(ITestOutputHelper output)
    {
        TerraformRequirement.Require();
        if (_missing is { } reason)
        {
            if (SharedFolder.IsCi)
            {
                Assert.Fail(reason + " Under CI=true this is a failure.");
            }

            Assert.Skip(reason);
        }

        while (_startLog.TryDequeue(out var line))
        {
            output.WriteLine(line);
        }

        return Fleet ?? throw new InvalidOperationException("The container fleet did not start.");
    }

    /// <summary>The next round's number: each test builds its own workspace, round-NNN.</summary>
    internal int NextRound() => Interlocked.Increment(ref _round);

    public async ValueTask DisposeAsync()
    {
        if (Fleet is not null)
        {
            await Fleet.DisposeAsync().ConfigureAwait(false);
        }
    }
}
