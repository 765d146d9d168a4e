using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.Sandbox;

namespace Provisioning.Terraform.Tests.Sandbox;

/// <summary>
/// The bubblewrap sandbox as the provisioner uses it: real bubblewrap, real Terraform, a template that tries to read
/// what it must not (docs/decisions/0005-built-in-daemon-isolation.md).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class TerraformSandboxTests(TerraformFixture fixture) : IDisposable
{
    private const string MissingBubblewrap = "/nonexistent/provisioning-tests/bwrap";

    // Auto prefers a job container when an engine has the job image: these tests are about bubblewrap, so there is none.
    private const string MissingJobImage = "provisioning/no-such-job-image:missing";

    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("provisioning-tf-outside-");
    private readonly string _fileSecret = "file-secret-" + Guid.NewGuid().ToString("N");
    private readonly string _environmentSecret = "env-secret-" + Guid.NewGuid().ToString("N");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Apply_InBubblewrapSandbox_TemplateSeesNeitherDaemonFilesNorEnvironmentNorProcesses()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "bubblewrap is Linux only.");
        var options = fixture.CreateOptions();
        options.Sandbox = TerraformSandboxMode.Bubblewrap;

        var (apply, logs, wroteWorkDirectory) = await RunProbeAsync(options);

        Assert.True(apply.Error == "", apply.Error + "\n" + logs);
        Assert.Contains("probe-end", logs, StringComparison.Ordinal);
        Assert.Contains("TF_VAR_workspace_name=dev-box", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_fileSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_environmentSecret, logs, StringComparison.Ordinal);
        // The work directory is the real one, read-write: the state landed where the daemon reads it.
        Assert.Contains("\"type\": \"terraform_data\"", apply.State.ToStringUtf8(), StringComparison.Ordinal);
        Assert.True(wroteWorkDirectory, "the template could not write its work directory");
    }

    [Fact]
    public async Task Apply_WithoutSandbox_TemplateReadsTheDaemonsFilesAndEnvironment()
    {
        // The risk the sandbox removes, shown with the same probe: proves the probe above would find the secrets.
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The probe reads /proc.");
        var options = fixture.CreateOptions();
        options.Sandbox = TerraformSandboxMode.None;

        var (apply, logs, _) = await RunProbeAsync(options);

        Assert.True(apply.Error == "", apply.Error);
        Assert.Contains(_fileSecret, logs, StringComparison.Ordinal);
        Assert.Contains(_environmentSecret, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_BubblewrapMissingInAutoMode_SaysTheRiskAndTheFix()
    {
        var status = await TerraformSandbox.CheckAsync(new TerraformOptions { Sandbox = TerraformSandboxMode.Auto, BubblewrapPath = MissingBubblewrap, JobImage = MissingJobImage }, Token);

        Assert.False(status.Isolated);
        Assert.Contains("WITHOUT a sandbox", status.Description, StringComparison.Ordinal);
        Assert.Contains(MissingBubblewrap, status.Description, StringComparison.Ordinal);
        Assert.Contains("apt-get install bubblewrap", status.Description, StringComparison.Ordinal);
        Assert.Contains("provisioning provisioner start", status.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_BubblewrapInstalled_IsIsolated()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "bubblewrap is Linux only.");

        var status = await TerraformSandbox.CheckAsync(new TerraformOptions { Sandbox = TerraformSandboxMode.Auto, JobImage = MissingJobImage }, Token);

        Assert.True(status.Isolated, status.Description + " (install bubblewrap: apt-get install bubblewrap)");
    }

    [Fact]
    public async Task Plan_RequiredSandboxMissing_FailsWithoutRunningTerraform()
    {
        var options = fixture.CreateOptions();
        options.Sandbox = TerraformSandboxMode.Bubblewrap;
        options.BubblewrapPath = MissingBubblewrap;
        var provisioner = fixture.CreateProvisioner(options);
        using var session = TestSession.Create(new Dictionary<string, string> { ["main.tf"] = """resource "terraform_data" "x" {}""" });

        var plan = await provisioner.PlanAsync(session.Session, new PlanRequest { Metadata = new Metadata { WorkspaceName = "dev-box" } }, Token);
        var check = await Assert.ThrowsAsync<TerraformSandboxException>(() => provisioner.CheckSandboxAsync(Token));

        Assert.Contains("the bubblewrap sandbox is required", plan.Error, StringComparison.Ordinal);
        Assert.Contains(MissingBubblewrap, plan.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(session.Directory, ".terraform")), "terraform init ran without the required sandbox");
        Assert.Equal(plan.Error, check.Message);
    }

    [Fact]
    public async Task Plan_AutoSandboxMissing_RunsAndWarnsInTheBuildLog()
    {
        var options = fixture.CreateOptions();
        options.Sandbox = TerraformSandboxMode.Auto;
        options.BubblewrapPath = MissingBubblewrap;
        options.JobImage = MissingJobImage;
        var provisioner = fixture.CreateProvisioner(options);
        using var session = TestSession.Create(new Dictionary<string, string> { ["main.tf"] = """resource "terraform_data" "x" {}""" });

        var plan = await provisioner.PlanAsync(session.Session, new PlanRequest { Metadata = new Metadata { WorkspaceName = "dev-box" } }, Token);

        Assert.True(plan.Error == "", plan.Error);
        Assert.Contains(session.Logs, log => log.Level == LogLevel.Warn && log.Output.Contains("WITHOUT a sandbox", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("SANDBOX_TESTS_HOST_SECRET", null);
        _outside.Delete(recursive: true);
    }

    private async Task<(ApplyComplete Apply, string Logs, bool WroteWorkDirectory)> RunProbeAsync(TerraformOptions options)
    {
        var secretFile = Path.Combine(_outside.FullName, "secret.txt");
        await File.WriteAllTextAsync(secretFile, _fileSecret, Token);
        // Not a PROVISIONING_* variable (those are stripped anyway): only the sandbox keeps this one from the template.
        Environment.SetEnvironmentVariable("SANDBOX_TESTS_HOST_SECRET", _environmentSecret);
        var provisioner = fixture.CreateProvisioner(options);
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = $$"""
                resource "terraform_data" "probe" {
                  provisioner "local-exec" {
                    interpreter = ["/bin/sh", "-c"]
                    command     = <<-EOT
                      echo probe-start
                      cat "{{secretFile}}" 2>&1
                      ls -la "{{_outside.FullName}}" 2>&1
                      for f in /proc/*/environ; do tr '\0' '\n' < "$f" 2>&1; done
                      env
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
        return (apply, session.LogText, File.Exists(Path.Combine(session.Directory, "written-inside")));
    }
}
