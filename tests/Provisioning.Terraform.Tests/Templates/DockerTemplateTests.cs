using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Templates;

/// <summary>
/// What parse time reads of templates/docker (its lifecycle runs for real in the CLI tests), and of its provider
/// variant, which needs provider downloads the test machine cannot make.
/// </summary>
public sealed class DockerTemplateTests
{
    private static readonly string TemplateDirectory = Path.Combine(SharedFolder.RepositoryRoot, "templates", "docker");

    private static readonly string ProviderVariantDirectory = Path.Combine(SharedFolder.RepositoryRoot, "templates", "docker-provider");

    [Fact]
    public void DockerTemplate_ReadByHclReader_DeclaresWorkspaceAndContainerVariablesWithDefaults()
    {
        var module = new TerraformModuleReader().ReadDirectory(TemplateDirectory, TestContext.Current.CancellationToken);

        Assert.Equal(
            ["workspace_name", "workspace_owner", "workspace_id", "workspace_transition", "workspace_build_number", "image", "docker_host", "network", "memory_mb"],
            module.Variables.Select(v => v.Name));
        Assert.All(module.Variables, v => Assert.False(v.Required, $"{v.Name} should have a default, so a build never stops to ask for it."));
        Assert.Equal("\"provisioning/debian-base:bookworm\"", module.Variables.Single(v => v.Name == "image").DefaultJson);
    }

    [Fact]
    public void DockerProviderVariant_ReadByHclReader_DeclaresItsVariablesWithDefaults()
    {
        var module = new TerraformModuleReader().ReadDirectory(ProviderVariantDirectory, TestContext.Current.CancellationToken);

        Assert.Equal(["docker_host", "image", "container_user", "memory_mb"], module.Variables.Select(v => v.Name));
        Assert.All(module.Variables, v => Assert.False(v.Required, $"{v.Name} should have a default, so a build never stops to ask for it."));
        Assert.All(module.Variables, v => Assert.False(string.IsNullOrWhiteSpace(v.Description), $"{v.Name} has no description."));
        var byName = module.Variables.ToDictionary(v => v.Name);
        Assert.Equal(("string", "\"\""), (byName["docker_host"].Type, byName["docker_host"].DefaultJson));
        Assert.Equal(("string", "\"codercom/enterprise-base:ubuntu\""), (byName["image"].Type, byName["image"].DefaultJson));
        Assert.Equal(("string", "\"coder\""), (byName["container_user"].Type, byName["container_user"].DefaultJson));
        Assert.Equal(("number", "0"), (byName["memory_mb"].Type, byName["memory_mb"].DefaultJson));
        Assert.Empty(module.WorkspaceTags);
    }

    [Fact]
    public void DockerTemplate_Readme_SaysTheProviderVariantCannotRunHere()
    {
        var readme = File.ReadAllText(Path.Combine(TemplateDirectory, "README.md"));

        Assert.Contains("kreuzwerker/docker", readme, StringComparison.Ordinal);
        Assert.Contains("does not run in this repository's test environment", readme, StringComparison.Ordinal);
    }
}
