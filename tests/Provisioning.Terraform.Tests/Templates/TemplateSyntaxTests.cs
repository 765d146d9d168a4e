using System.Diagnostics;

using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Templates;

/// <summary>Terraform's own parser is the judge of the shipped templates' syntax; fmt needs no providers.</summary>
public sealed class TemplateSyntaxTests
{
    [Theory(Timeout = 60_000)]
    [InlineData("local")]
    [InlineData("docker")]
    [InlineData("docker-provider")]
    public async Task Template_TerraformFmtCheck_AcceptsSyntaxAndFormatting(string template)
    {
        var directory = Path.Combine(SharedFolder.RepositoryRoot, "templates", template);
        var start = new ProcessStartInfo(TerraformRequirement.Require())
        {
            ArgumentList = { "fmt", "-check", "-diff", "-no-color", "-recursive", directory },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["CHECKPOINT_DISABLE"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, $"terraform fmt -check failed for templates/{template}:\n{await output}\n{await error}");
    }
}
