using System.Text;

using CliWrap;

using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.CoderProvider;

/// <summary>The test provider's side of go-plugin's handshake: refused outside Terraform, and cleartext when Terraform turns AutoMTLS off.</summary>
[Collection(TerraformCollection.Name)]
public sealed class TestProviderPluginTests
{
    [Fact(Timeout = 60_000)]
    public async Task Provider_StartedByHand_RefusesWithGoPluginsMessage()
    {
        // Arrange: no magic cookie in the environment, as when someone runs the binary.
        var cancellationToken = TestContext.Current.CancellationToken;
        var errors = new StringBuilder();
        var output = new StringBuilder();

        // Act
        var result = await Cli.Wrap(Path.Combine(CoderProviderMirror.BuildDirectory, "Provisioning.TestProvider"))
            .WithEnvironmentVariables(new Dictionary<string, string?> { ["TF_PLUGIN_MAGIC_COOKIE"] = null })
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(errors))
            .ExecuteAsync(cancellationToken);

        // Assert: nothing on stdout (Terraform's channel), go-plugin's words on stderr.
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", output.ToString());
        Assert.StartsWith("This binary is a plugin. These are not meant to be executed directly.", errors.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task Provider_WithPluginTlsDisabled_ServesTerraformInCleartext()
    {
        // Arrange: TF_DISABLE_PLUGIN_TLS makes Terraform send no client certificate and dial without TLS.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(CoderTemplateText.RequiredProviders + """
            data "coder_workspace" "me" {}

            output "name" {
              value = data.coder_workspace.me.name
            }
            """);
        var environment = new Dictionary<string, string?> { ["TF_DISABLE_PLUGIN_TLS"] = "1", ["CODER_WORKSPACE_NAME"] = "plain" };

        // Act
        await run.SucceedAsync(["init", "-input=false", "-no-color"], environment, cancellationToken);
        await run.SucceedAsync(["apply", "-auto-approve", "-input=false", "-no-color"], environment, cancellationToken);
        var name = await run.SucceedAsync(["output", "-raw", "name"], environment, cancellationToken);

        // Assert
        Assert.Equal("plain", name);
    }
}
