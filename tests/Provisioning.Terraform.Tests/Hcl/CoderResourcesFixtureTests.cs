using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Hcl;

/// <summary>The reader against the real templates of the reference system's conformance corpus.</summary>
public sealed class CoderResourcesFixtureTests
{
    [Fact]
    public void Parse_EveryFixtureTerraformFile_Succeeds()
    {
        var root = SharedFolder.Require("fixtures/coder-resources");
        var files = Directory.EnumerateFiles(root, "*.tf", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);

        var failures = new List<string>();
        foreach (var path in files)
        {
            try
            {
                HclParser.Parse(File.ReadAllText(path), Path.GetRelativePath(root, path));
            }
            catch (HclSyntaxException exception)
            {
                failures.Add(exception.Message);
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void ReadDirectory_EveryFixtureModuleDirectory_Succeeds()
    {
        var root = SharedFolder.Require("fixtures/coder-resources");
        var directories = Directory.EnumerateFiles(root, "*.tf", SearchOption.AllDirectories)
            .Select(path => Path.GetDirectoryName(path)!)
            .Distinct(StringComparer.Ordinal)
            .ToList();

        var reader = new TerraformModuleReader();
        foreach (var directory in directories)
        {
            reader.ReadDirectory(directory, TestContext.Current.CancellationToken);
        }

        Assert.Contains(directories, directory => Path.GetFileName(directory) == "module");
    }

    [Fact]
    public void ReadDirectory_RichParameters_HasNoVariablesOrTags()
    {
        // The template declares coder_parameter data sources, not Terraform variables.
        var directory = Path.Combine(SharedFolder.Require("fixtures/coder-resources"), "rich-parameters");

        var module = new TerraformModuleReader().ReadDirectory(directory, TestContext.Current.CancellationToken);

        Assert.Empty(module.Variables);
        Assert.Empty(module.WorkspaceTags);
    }

    [Fact]
    public void ReadDirectory_ChildModules_DeclareTheirVariables()
    {
        var root = SharedFolder.Require("fixtures/coder-resources");
        var reader = new TerraformModuleReader();

        var calling = reader.ReadDirectory(Path.Combine(root, "calling-module", "module"), TestContext.Current.CancellationToken);
        var script = reader.ReadDirectory(Path.Combine(root, "module-script", "module"), TestContext.Current.CancellationToken);

        Assert.Equal([new VariableDefinition("script", "string", "", null, false, true, true, "module.tf", 1)], calling.Variables);
        Assert.Equal([new VariableDefinition("agent_id", "string", "", null, false, true, true, "module.tf", 10)], script.Variables);
    }
}
