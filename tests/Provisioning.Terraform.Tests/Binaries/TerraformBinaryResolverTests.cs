using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Terraform.Binaries;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Binaries;

public sealed class TerraformBinaryResolverTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("provisioning-resolver-").FullName;

    [Fact]
    public async Task ResolveAsync_TooOldVersion_NamesFoundAndWantedVersionsAndPath()
    {
        var path = FakeTerraform.Write(_directory, "terraform", FakeTerraform.Script("1.4.7"));

        var exception = await Assert.ThrowsAsync<TerraformBinaryException>(
            () => CreateResolver(path).ResolveAsync(TestContext.Current.CancellationToken));

        Assert.Contains("1.4.7", exception.Message, StringComparison.Ordinal);
        Assert.Contains(">= 1.5.0, < 2.0.0", exception.Message, StringComparison.Ordinal);
        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_NextMajorVersion_IsRefused()
    {
        var path = FakeTerraform.Write(_directory, "terraform", FakeTerraform.Script("2.0.0-alpha1"));

        var exception = await Assert.ThrowsAsync<TerraformBinaryException>(
            () => CreateResolver(path).ResolveAsync(TestContext.Current.CancellationToken));

        Assert.Contains("2.0.0", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_TofuBinary_IsAcceptedAsOpenTofu()
    {
        var path = FakeTerraform.Write(_directory, "tofu", FakeTerraform.Script("1.8.3", "OpenTofu"));

        var binary = await CreateResolver(path).ResolveAsync(TestContext.Current.CancellationToken);

        Assert.Equal(TerraformFlavor.OpenTofu, binary.Flavor);
        Assert.Equal(new Version(1, 8, 3), binary.Version);
    }

    [Fact]
    public async Task InspectAsync_OpenTofuUnderAnotherName_IsDetectedFromItsBanner()
    {
        var path = FakeTerraform.Write(_directory, "terraform", FakeTerraform.Script("1.9.0", "OpenTofu"));

        var binary = await TerraformBinaryResolver.InspectAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(TerraformFlavor.OpenTofu, binary.Flavor);
    }

    [Fact]
    public async Task InspectAsync_NotTerraform_SaysSo()
    {
        var path = FakeTerraform.Write(_directory, "terraform", "#!/bin/sh\necho hello\n");

        var exception = await Assert.ThrowsAsync<TerraformBinaryException>(
            () => TerraformBinaryResolver.InspectAsync(path, TestContext.Current.CancellationToken));

        Assert.Contains("version JSON", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_RealTerraform_ReportsASupportedTerraform()
    {
        var path = TerraformRequirement.Require();

        var binary = await TerraformBinaryResolver.InspectAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(TerraformFlavor.Terraform, binary.Flavor);
        Assert.True(TerraformVersionRange.IsSupported(binary.Version), binary.ToString());
    }

    [Theory]
    [InlineData("1.11.4", "1.11.4")]
    [InlineData("v1.6.0", "1.6.0")]
    [InlineData("1.12.0-beta1", "1.12.0")]
    [InlineData("1.10", null)]
    [InlineData("banana", null)]
    public void ParseVersion_Text_GivesMajorMinorPatch(string text, string? expected)
    {
        Assert.Equal(expected is null ? null : Version.Parse(expected), TerraformBinaryResolver.ParseVersion(text));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TerraformBinaryResolver CreateResolver(string terraformPath)
    {
        var options = new TerraformOptions { TerraformPath = terraformPath, CacheDirectory = _directory };
        return new TerraformBinaryResolver(
            options,
            new TerraformInstaller(options, new HttpClient(), NullLogger<TerraformInstaller>.Instance),
            NullLogger<TerraformBinaryResolver>.Instance);
    }
}
