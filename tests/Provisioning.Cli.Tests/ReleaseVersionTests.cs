using System.Reflection;
using System.Text.RegularExpressions;

using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// The version a build carries (MinVer, from git tags: docs/decisions/0011-releases.md) and the release's build settings,
/// checked without publishing: scripts/release.sh takes minutes and is not part of the test suite.
/// </summary>
public sealed partial class ReleaseVersionTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Version_OfTheBuiltCli_IsTheSemVerTheCoordinatorReportsWithoutACommitSuffix()
    {
        var coordinatorVersion = Assembly.Load("Provisioning.Coordinator").GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

        var result = await ProcessRunner.RunAsync(CliFleetFixture.Executable, ["--version"], CommandTimeout);

        Assert.Equal(0, result.ExitCode);
        var printed = result.Stdout.Trim();
        Assert.Matches(SemVer(), printed);
        Assert.DoesNotContain('+', printed);
        // /api/v1/buildinfo reports the coordinator assembly's informational version: both come from the same MinVer run.
        Assert.Equal(coordinatorVersion, printed);
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public async Task PublishProfile_ForRuntime_IsSelfContainedSingleFileReadyToRun(string runtime)
    {
        var project = Path.Combine(SharedFolder.RepositoryRoot, "cli", "Provisioning.Cli.csproj");

        // Evaluation only (no restore, no build): the properties `dotnet publish -p:PublishProfile=...` would use.
        var result = await ProcessRunner.RunAsync(
            "dotnet",
            ["msbuild", project, "-nologo", $"-p:PublishProfile={runtime}", "-p:_IsPublishing=true",
             "-getProperty:RuntimeIdentifier", "-getProperty:SelfContained", "-getProperty:PublishSingleFile",
             "-getProperty:PublishReadyToRun", "-getProperty:AssemblyName", "-getProperty:PackAsTool", "-getProperty:ToolCommandName"],
            CommandTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"\"RuntimeIdentifier\": \"{runtime}\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"SelfContained\": \"true\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"PublishSingleFile\": \"true\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"PublishReadyToRun\": \"true\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"AssemblyName\": \"provisioning\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"PackAsTool\": \"true\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"ToolCommandName\": \"provisioning\"", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolPackage_WithoutAPublishProfile_IsFrameworkDependentWithoutARuntime()
    {
        var project = Path.Combine(SharedFolder.RepositoryRoot, "cli", "Provisioning.Cli.csproj");

        // `dotnet pack` sees this: a tool package must not carry a runtime identifier or be self-contained.
        var result = await ProcessRunner.RunAsync(
            "dotnet",
            ["msbuild", project, "-nologo", "-getProperty:RuntimeIdentifier", "-getProperty:SelfContained", "-getProperty:PublishSingleFile", "-getProperty:PackAsTool"],
            CommandTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\"RuntimeIdentifier\": \"\"", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\"SelfContained\": \"true\"", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\"PublishSingleFile\": \"true\"", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"PackAsTool\": \"true\"", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleaseScript_WithAnInvalidVersion_FailsBeforeBuildingAnything()
    {
        var output = Directory.CreateTempSubdirectory("provisioning-release-test-");
        try
        {
            var result = await ProcessRunner.RunAsync(
                Path.Combine(SharedFolder.RepositoryRoot, "scripts", "release.sh"), ["--version", "v1.2", "--out", output.FullName], CommandTimeout);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("is not a SemVer version", result.Stderr, StringComparison.Ordinal);
            Assert.Empty(output.EnumerateFileSystemInfos());
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")]
    private static partial Regex SemVer();
}
