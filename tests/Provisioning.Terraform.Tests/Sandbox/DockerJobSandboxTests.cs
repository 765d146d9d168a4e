using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.Sandbox;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Sandbox;

/// <summary>
/// Job containers as the provisioner uses them (<c>--isolation docker</c>): a real engine, the job image, real Terraform,
/// templates that look around and that get canceled (docs/decisions/0014-per-job-containers.md).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class DockerJobSandboxTests(TerraformFixture fixture) : IDisposable
{
    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("provisioning-tf-outside-");
    private readonly string _fileSecret = "file-secret-" + Guid.NewGuid().ToString("N");
    private readonly string _environmentSecret = "env-secret-" + Guid.NewGuid().ToString("N");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Apply_InJobContainer_TemplateSeesTheImageAndItsJobButNoneOfTheDaemon()
    {
        using var docker = await DockerJobImageRequirement.RequireAsync();
        var options = DockerOptions();
        options.JobMemoryBytes = 256L * 1024 * 1024;
        options.JobCpus = 0.5;
        var secretFile = Path.Combine(_outside.FullName, "secret.txt");
        await File.WriteAllTextAsync(secretFile, _fileSecret, Token);
        Environment.SetEnvironmentVariable("JOB_CONTAINER_TESTS_HOST_SECRET", _environmentSecret);
        var provisioner = fixture.CreateProvisioner(options);
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = $$"""
                resource "terraform_data" "probe" {
                  provisioner "local-exec" {
                    interpreter = ["/bin/sh", "-c"]
                    command     = <<-EOT
                      echo probe-start
                      ls -a / | tr '\n' ' '; echo
                      cat "{{secretFile}}" 2>&1
                      for f in /proc/*/environ; do tr '\0' '\n' < "$f" 2>&1; done
                      env
                      echo "uid=$(id -u):$(id -g)"
                      echo "memory=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
                      echo written > written-inside
                      echo probe-end
                    EOT
                  }
                }
                """,
        });
        var metadata = new Metadata { WorkspaceName = "dev-box", WorkspaceTransition = WorkspaceTransition.Start };

        var plan = await provisioner.PlanAsync(session.Session, new PlanRequest { Metadata = metadata }, Token);
        Assert.True(plan.Error == "", plan.Error + "\n" + session.LogText);
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = metadata }, Token);
        var logs = session.LogText;

        Assert.True(apply.Error == "", apply.Error + "\n" + logs);
        Assert.Contains("probe-end", logs, StringComparison.Ordinal);
        // Docker's marker file at the root: the listing is the container's filesystem, not the host's.
        Assert.Contains(".dockerenv", logs, StringComparison.Ordinal);
        Assert.Contains("TF_VAR_workspace_name=dev-box", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_fileSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_environmentSecret, logs, StringComparison.Ordinal);
        Assert.Contains($"uid={CurrentId("Uid")}:{CurrentId("Gid")}", logs, StringComparison.Ordinal);
        Assert.Contains("memory=268435456", logs, StringComparison.Ordinal);
        Assert.Contains("job container (image " + DockerJobImageRequirement.JobImage, (await provisioner.CheckSandboxAsync(Token)).Description, StringComparison.Ordinal);
        // The work directory is the real one, written as the daemon's user; the state came back as without isolation.
        Assert.True(File.Exists(Path.Combine(session.Directory, "written-inside")), "the template could not write its work directory");
        Assert.Contains("\"type\": \"terraform_data\"", apply.State.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Contains(apply.Timings, timing => timing.Action == "terraform apply" && timing.State == TimingState.Completed);
        Assert.Empty(await DockerJobImageRequirement.ContainersAsync(docker, TerraformSandbox.JobContainerLabel, session.Directory));
    }

    [Fact(Timeout = 120_000)]
    public async Task Apply_CanceledInJobContainer_TerraformStopsGracefullyAndNoContainerIsLeft()
    {
        using var docker = await DockerJobImageRequirement.RequireAsync();
        var options = DockerOptions();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var provisioner = fixture.CreateProvisioner(options);
        using var session = TestSession.Create(
            new Dictionary<string, string>
            {
                ["main.tf"] = """
                    resource "terraform_data" "slow" {
                      provisioner "local-exec" {
                        command = "echo sleeping-now; sleep 300"
                      }
                    }
                    """,
            },
            onLog: log =>
            {
                if (log.Output.Contains("sleeping-now", StringComparison.Ordinal))
                {
                    running.TrySetResult();
                }
            });
        var metadata = new Metadata { WorkspaceName = "dev-box", WorkspaceTransition = WorkspaceTransition.Start };
        var plan = await provisioner.PlanAsync(session.Session, new PlanRequest { Metadata = metadata }, Token);
        Assert.True(plan.Error == "", plan.Error + "\n" + session.LogText);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);

        var apply = provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = metadata }, cancel.Token);
        await running.Task.WaitAsync(Token);
        var during = await DockerJobImageRequirement.ContainersAsync(docker, TerraformSandbox.JobContainerLabel, session.Directory);
        await cancel.CancelAsync();
        var complete = await apply;

        Assert.Equal("running", Assert.Single(during).State);
        Assert.Equal(TerraformProvisioner.CanceledError, complete.Error);
        // Terraform got the interrupt itself (not a kill): it says so as it does without isolation.
        Assert.Contains("Interrupt received", session.LogText, StringComparison.Ordinal);
        Assert.Empty(await DockerJobImageRequirement.ContainersAsync(docker, TerraformSandbox.JobContainerLabel, session.Directory));
    }

    [Fact]
    public async Task CheckAsync_DockerRequiredButImageMissing_SaysHowToBuildIt()
    {
        var options = fixture.CreateOptions();
        options.Sandbox = TerraformSandboxMode.Docker;
        options.JobImage = "provisioning/no-such-job-image:missing";
        var provisioner = fixture.CreateProvisioner(options);

        var refused = await Assert.ThrowsAsync<TerraformSandboxException>(() => provisioner.CheckSandboxAsync(Token));

        Assert.Contains("job containers are required", refused.Message, StringComparison.Ordinal);
        // Whichever is missing here, the engine or the image, the message names the fix.
        Assert.Matches("docker-job-image.sh|docker-engine.sh", refused.Message);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("JOB_CONTAINER_TESTS_HOST_SECRET", null);
        _outside.Delete(recursive: true);
    }

    private static string CurrentId(string field) => File.ReadLines("/proc/self/status")
        .First(line => line.StartsWith(field + ":", StringComparison.Ordinal))
        .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[1];

    private TerraformOptions DockerOptions()
    {
        var options = fixture.CreateOptions(TimeSpan.FromSeconds(20));
        options.Sandbox = TerraformSandboxMode.Docker;
        return options;
    }
}
