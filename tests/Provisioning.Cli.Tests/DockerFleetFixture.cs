using System.Text.Json;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// The CLI fleet (server, login, an untagged daemon without isolation, which builds templates/docker) plus a second
/// daemon started as an operator would isolate one: `provisioning provisioner start --isolation docker`, its key in a
/// file, a secret in its environment, tagged <c>isolation=docker</c> so only templates pushed with that tag reach it.
/// Without a Docker engine and the job image the second daemon is not started; the tests say why (skip, or fail under CI).
/// </summary>
public sealed class DockerFleetFixture : CliFleetFixture
{
    private System.Diagnostics.Process? _isolated;
    private readonly System.Text.StringBuilder _isolatedOutput = new();

    /// <summary>A value only the isolated daemon's environment holds.</summary>
    public string DaemonSecret { get; } = "daemon-only-" + Guid.NewGuid().ToString("N");

    /// <summary>The isolated daemon's provisioner key, kept in <see cref="KeyFile"/>.</summary>
    public string DaemonKey { get; private set; } = "";

    public string KeyFile => Path.Combine(Home, "isolated.key");

    /// <summary>The isolated daemon's cache: its jobs' work directories are under it (the job containers' label values).</summary>
    public string IsolatedCache => Path.Combine(Home, "cache-isolated");

    /// <summary>What the isolated daemon printed so far.</summary>
    public string IsolatedOutput
    {
        get
        {
            lock (_isolatedOutput)
            {
                return _isolatedOutput.ToString();
            }
        }
    }

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var (client, _) = await DockerJobImageRequirement.ConnectAsync();
        if (client is null || !OperatingSystem.IsLinux())
        {
            return;
        }

        client.Dispose();
        DaemonKey = (await RunCheckedAsync("provisioner", "keys", "create", "isolated", "--tag", "isolation=docker")).Stdout.Trim();
        await File.WriteAllTextAsync(KeyFile, DaemonKey + "\n");
        File.SetUnixFileMode(KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _isolated = StartLongRunning(
            ["provisioner", "start", "--url", Url, "--name", "isolated", "--key-file", KeyFile, "--cache-dir", IsolatedCache,
             "--isolation", "docker", "--job-memory", "512MiB", "--job-cpus", "1", "--slots", "2"],
            new Dictionary<string, string> { ["DAEMON_ONLY_SECRET"] = DaemonSecret },
            _isolatedOutput);
        using var timeout = new CancellationTokenSource(CommandTimeout);
        while (!JsonDocument.Parse((await RunCheckedAsync("provisioner", "list", "-o", "json")).Stdout).RootElement
            .EnumerateArray().Any(entry => entry.GetProperty("name").GetString() == "isolated"))
        {
            Assert.False(_isolated.HasExited, "the --isolation docker daemon exited:\n" + IsolatedOutput);
            await Task.Delay(300, timeout.Token);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_isolated is not null)
        {
            await SignalAndWaitAsync(_isolated, "TERM");
            _isolated.Dispose();
        }

        await base.DisposeAsync();
    }
}
