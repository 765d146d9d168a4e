using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// The container recipe (deploy/docker/) without a Docker engine: image-steps.sh, which the Dockerfiles RUN, runs here
/// into a temporary root with the built CLI, and the Dockerfiles are checked to run it the way the test does.
/// </summary>
public sealed partial class DockerImageStepsTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private static string DockerDirectory => Path.Combine(SharedFolder.RepositoryRoot, "deploy", "docker");

    [Theory]
    [InlineData("server", "/var/lib/provisioning")]
    [InlineData("provisioner", "/var/lib/provisioning-provisioner")]
    public async Task ImageSteps_IntoATemporaryRoot_InstallsARunnableLayout(string role, string stateDirectory)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The image's steps are a Linux shell script.");
            return;
        }

        var root = Directory.CreateTempSubdirectory("provisioning-image-");
        try
        {
            var terraform = TerraformRequirement.Require();
            var result = await RunStepsAsync(role, root.FullName, terraform);

            Assert.True(result.ExitCode == 0, result.ToString());
            var version = (await ProcessRunner.RunAsync(CliFleetFixture.Executable, ["--version"], CommandTimeout)).Stdout.Trim();
            Assert.Contains($"done: provisioning {version} ({role})", result.Stdout, StringComparison.Ordinal);
            var link = new FileInfo(Path.Combine(root.FullName, "usr", "local", "bin", "provisioning"));
            Assert.Equal("/opt/provisioning/provisioning", link.LinkTarget);
            var copied = await ProcessRunner.RunAsync(Path.Combine(root.FullName, "opt", "provisioning", "provisioning"), ["--version"], CommandTimeout);
            Assert.Equal(version, copied.Stdout.Trim());
            var terraformVersion = await ProcessRunner.RunAsync(Path.Combine(root.FullName, "usr", "local", "bin", "terraform"), ["version", "-json"], CommandTimeout);
            Assert.True(terraformVersion.ExitCode == 0, terraformVersion.ToString());
            Assert.Contains($"provisioning:x:10001:10001:Provisioning fleet:{stateDirectory}:", await File.ReadAllTextAsync(Path.Combine(root.FullName, "etc", "passwd"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
            Assert.Contains("provisioning:x:10001:", await File.ReadAllTextAsync(Path.Combine(root.FullName, "etc", "group"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
            var state = Path.Combine(root.FullName, stateDirectory.TrimStart('/'));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
            if (Environment.UserName == "root")
            {
                var owner = await ProcessRunner.RunAsync("stat", ["-c", "%u:%g", state], CommandTimeout);
                Assert.Equal("10001:10001", owner.Stdout.Trim());
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ImageSteps_RunTwice_AddsTheAccountOnce()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The image's steps are a Linux shell script.");
            return;
        }

        var root = Directory.CreateTempSubdirectory("provisioning-image-");
        try
        {
            var terraform = TerraformRequirement.Require();
            Assert.Equal(0, (await RunStepsAsync("server", root.FullName, terraform)).ExitCode);
            Assert.Equal(0, (await RunStepsAsync("server", root.FullName, terraform)).ExitCode);

            var passwd = await File.ReadAllLinesAsync(Path.Combine(root.FullName, "etc", "passwd"), TestContext.Current.CancellationToken);
            Assert.Single(passwd, line => line.StartsWith("provisioning:", StringComparison.Ordinal));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ImageSteps_UnknownRole_FailsAndWritesNothing()
    {
        var root = Directory.CreateTempSubdirectory("provisioning-image-");
        try
        {
            var result = await RunStepsAsync("coordinator", root.FullName, "/bin/sh");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("unknown role 'coordinator'", result.Stderr, StringComparison.Ordinal);
            Assert.Empty(root.EnumerateFileSystemInfos());
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(200, 0)]
    [InlineData(503, 1)]
    [InlineData(0, 1)]
    public async Task HealthCheck_InstalledByTheSteps_ExitsZeroOnlyOnA2xxAnswer(int status, int expectedExit)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The image's steps are a Linux shell script.");
            return;
        }

        if (ProcessRunner.FindOnPath("curl") is null && ProcessRunner.FindOnPath("wget") is null)
        {
            Assert.Skip("The health check uses curl or wget; this machine has neither.");
        }

        var root = Directory.CreateTempSubdirectory("provisioning-image-");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        if (status == 0)
        {
            listener.Stop(); // Nothing listens: as before the server has started.
        }

        try
        {
            Assert.Equal(0, (await RunStepsAsync("server", root.FullName, "/bin/sh")).ExitCode);
            using var answer = new CancellationTokenSource(CommandTimeout);
            var serving = status == 0 ? Task.CompletedTask : AnswerOnceAsync(listener, status, answer.Token);

            var result = await ProcessRunner.RunAsync(
                Path.Combine(root.FullName, "usr", "local", "bin", "provisioning-healthcheck"), [$"http://127.0.0.1:{port}/healthz"], CommandTimeout);
            await serving;

            Assert.True(result.ExitCode == expectedExit, result.ToString());
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("server.Dockerfile", "server", "/var/lib/provisioning", "http://127.0.0.1:3000/healthz")]
    [InlineData("provisioner.Dockerfile", "provisioner", "/var/lib/provisioning-provisioner", "http://127.0.0.1:8081/healthz")]
    public async Task Dockerfile_ForRole_RunsTheStepsAsTheTestDoes(string dockerfile, string role, string stateDirectory, string health)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(DockerDirectory, dockerfile), TestContext.Current.CancellationToken);

        Assert.Matches(Line(@"ARG BASE_IMAGE=\S+"), text);
        Assert.Matches(Line(@"FROM \$\{BASE_IMAGE\}"), text);
        Assert.Contains($"sh /tmp/image-steps.sh {role} / ", text, StringComparison.Ordinal);
        Assert.Matches(Line("USER 10001:10001"), text);
        Assert.Contains($"VOLUME [\"{stateDirectory}\"]", text, StringComparison.Ordinal);
        Assert.Contains($"CMD [\"/usr/local/bin/provisioning-healthcheck\", \"{health}\"]", text, StringComparison.Ordinal);
        Assert.Matches(Line("ENTRYPOINT \\[\"/usr/local/bin/provisioning\"\\]"), text);
        // What the image copies in is what scripts/release.sh writes.
        Assert.Contains("COPY artifacts/release/${RID}/ /tmp/provisioning-dist/", text, StringComparison.Ordinal);
    }

    private static Task<CliResult> RunStepsAsync(string role, string root, string terraform) =>
        ProcessRunner.RunAsync(
            "sh",
            [Path.Combine(DockerDirectory, "image-steps.sh"), role, root],
            CommandTimeout,
            new Dictionary<string, string>
            {
                // The framework-dependent build beside the tests stands in for the single file: the steps copy a directory.
                ["PROVISIONING_DIST"] = AppContext.BaseDirectory,
                ["TERRAFORM_BINARY"] = terraform,
            });

    private static async Task AnswerOnceAsync(TcpListener listener, int status, CancellationToken cancellationToken)
    {
        using var client = await listener.AcceptTcpClientAsync(cancellationToken);
        await using var stream = client.GetStream();
        var buffer = new byte[4096];
        var request = new StringBuilder();
        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            request.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var body = status == 200 ? "ok" : "not ready";
        var response = $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Service Unavailable")}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), cancellationToken);
    }

    private static Regex Line(string pattern) => new($"(?m)^{pattern}\\s*$", RegexOptions.None, TimeSpan.FromSeconds(1));
}
