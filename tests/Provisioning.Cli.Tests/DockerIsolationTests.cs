using System.Text.Json;
using System.Text.RegularExpressions;

using Docker.DotNet.Models;

using Provisioning.Terraform.Sandbox;
using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// Docker where it serves users, through the CLI against a real server: a daemon started with `--isolation docker`
/// runs each job's Terraform in a job container (docs/decisions/0014-per-job-containers.md), and templates/docker
/// makes workspaces that are containers.
/// </summary>
public sealed partial class DockerIsolationTests(DockerFleetFixture fleet) : IClassFixture<DockerFleetFixture>
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromMinutes(2);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IsolatedDaemon_TemplateListingRootAndEnvironment_SeesTheContainerAndNoneOfTheDaemonsSecrets()
    {
        using var docker = await DockerJobImageRequirement.RequireAsync();
        var probe = await PushAsync("docker-probe", $$"""
            resource "terraform_data" "probe" {
              provisioner "local-exec" {
                interpreter = ["/bin/sh", "-c"]
                command     = <<-EOT
                  echo probe-start
                  ls -a /
                  cat "{{fleet.KeyFile}}" 2>&1
                  ls -la "{{fleet.Home}}" 2>&1
                  for f in /proc/[0-9]*/environ; do tr '\0' '\n' < "$f" 2>&1; done
                  env
                  echo probe-end
                EOT
              }
            }
            """);

        var created = await fleet.RunAsync("create", "docker-probe", "-t", probe, "-y");
        var log = (await fleet.RunCheckedAsync("logs", "docker-probe", "--build", "1")).Stdout;

        Assert.True(created.ExitCode == 0, created + "\n" + fleet.IsolatedOutput);
        Assert.Contains("probe-end", log, StringComparison.Ordinal);
        Assert.Contains(".dockerenv", log, StringComparison.Ordinal); // the listing of / is the container's
        Assert.Contains("TF_VAR_workspace_name=docker-probe", log, StringComparison.Ordinal); // the environment was printed
        Assert.DoesNotContain(fleet.DaemonKey, log, StringComparison.Ordinal);
        Assert.DoesNotContain(fleet.DaemonSecret, log, StringComparison.Ordinal);
        Assert.Contains(fleet.KeyFile + ": No such file or directory", log, StringComparison.Ordinal); // the daemon's home is not there
        Assert.Contains("isolation docker", fleet.IsolatedOutput, StringComparison.Ordinal); // said at start
        Assert.Empty(await JobContainersAsync(docker));
    }

    [Fact]
    public async Task IsolatedDaemon_CanceledBuild_EndsCanceledAndLeavesNoContainer()
    {
        using var docker = await DockerJobImageRequirement.RequireAsync();
        var sleeper = await PushAsync("docker-cancel", """
            resource "terraform_data" "sleeper" {
              provisioner "local-exec" {
                command = "echo sleeper-ready; sleep 600"
              }
            }
            """);
        using var sleeping = fleet.StartDetached("create", "docker-cancel", "-t", sleeper, "-y");
        var job = await WaitForOutputAsync(sleeping, "sleeper-ready");
        var during = await JobContainersAsync(docker);

        await fleet.RunCheckedAsync("jobs", "cancel", job);
        var ended = await CliFleetFixture.CollectAsync(sleeping, WaitTimeout);
        var jobs = JsonDocument.Parse((await fleet.RunCheckedAsync("jobs", "list", "-o", "json")).Stdout).RootElement;
        var log = (await fleet.RunCheckedAsync("logs", "docker-cancel", "--build", "1")).Stdout;

        Assert.Equal("running", Assert.Single(during).State);
        Assert.NotEqual(0, ended.ExitCode);
        Assert.Equal("canceled", jobs.EnumerateArray().Single(entry => entry.GetProperty("id").GetString() == job).GetProperty("status").GetString());
        // Terraform in the container got the interrupt itself and stopped gracefully, as without isolation.
        Assert.Contains("Stopping operation", log, StringComparison.Ordinal);
        Assert.Empty(await JobContainersAsync(docker));
    }

    [Fact]
    public async Task DockerTemplate_CreateStopStartDelete_RunningThenStoppedThenRunningThenNothingLeft()
    {
        using var docker = await DockerJobImageRequirement.RequireAsync(DockerJobImageRequirement.BaseImage);
        var template = "docker-" + Guid.NewGuid().ToString("N")[..8];
        await fleet.RunCheckedAsync("templates", "push", template, "-d", Path.Combine(SharedFolder.RepositoryRoot, "templates", "docker"), "-y");

        await fleet.RunCheckedAsync("create", "box", "-t", template, "-y");
        var workspaceId = JsonDocument.Parse((await fleet.RunCheckedAsync("show", "box", "-o", "json")).Stdout).RootElement.GetProperty("id").GetString()!;
        var started = Assert.Single(await WorkspaceContainersAsync(docker, workspaceId));
        await ExecAsync(started.ID, "echo kept > /home/workspace/file");
        await fleet.RunCheckedAsync("stop", "box", "-y");
        var stopped = Assert.Single(await WorkspaceContainersAsync(docker, workspaceId));
        await fleet.RunCheckedAsync("start", "box", "-y");
        var restarted = Assert.Single(await WorkspaceContainersAsync(docker, workspaceId));
        var kept = await ExecAsync(restarted.ID, "cat /home/workspace/file");
        await fleet.RunCheckedAsync("delete", "box", "-y");

        Assert.Equal("running", started.State);
        Assert.Equal("exited", stopped.State);
        Assert.Equal(("running", started.ID), (restarted.State, restarted.ID));
        Assert.Equal("kept", kept.Trim());
        Assert.Empty(await WorkspaceContainersAsync(docker, workspaceId));
        var volumes = await docker.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { ["provisioning.workspace_id=" + workspaceId] = true } },
        }, Token);
        Assert.Empty(volumes.Volumes ?? []);
    }

    private Task<IList<ContainerListResponse>> JobContainersAsync(Docker.DotNet.DockerClient docker) =>
        DockerJobImageRequirement.ContainersAsync(docker, TerraformSandbox.JobContainerLabel, fleet.IsolatedCache);

    private static Task<IList<ContainerListResponse>> WorkspaceContainersAsync(Docker.DotNet.DockerClient docker, string workspaceId) =>
        DockerJobImageRequirement.ContainersAsync(docker, "provisioning.workspace_id", workspaceId);

    /// <summary>Runs a shell command in a workspace container with the docker CLI (as a user would) and returns its output.</summary>
    private static async Task<string> ExecAsync(string container, string command)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("docker", ["exec", container, "/bin/sh", "-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var result = await CliFleetFixture.CollectAsync(process, WaitTimeout);
        Assert.True(result.ExitCode == 0, $"docker exec {container} {command}: {result}");
        return result.Stdout;
    }

    /// <summary>Pushes a one-file template that only the isolated daemon (tag isolation=docker) runs.</summary>
    private async Task<string> PushAsync(string prefix, string mainTf)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        var directory = Path.Combine(fleet.Home, "templates", name);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "main.tf"), mainTf, Token);
        await fleet.RunCheckedAsync("templates", "push", name, "-d", directory, "--provisioner-tag", "isolation=docker", "-y");
        return name;
    }

    /// <summary>Reads a following `create` until it printed <paramref name="text"/> (bounded); returns the job id it printed first.</summary>
    private static async Task<string> WaitForOutputAsync(System.Diagnostics.Process process, string text)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(WaitTimeout);
        var seen = new System.Text.StringBuilder();
        string? job = null;
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            job ??= JobIdPattern().Match(line) is { Success: true } match ? match.Groups[1].Value : null;
            if (line.Contains(text, StringComparison.Ordinal))
            {
                Assert.True(job is not null, "no job id before:\n" + seen);
                return job;
            }
        }

        Assert.Fail($"the build ended without printing '{text}':\n{seen}{await process.StandardError.ReadToEndAsync(Token)}");
        return "";
    }

    [GeneratedRegex(@"job ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")]
    private static partial Regex JobIdPattern();
}
