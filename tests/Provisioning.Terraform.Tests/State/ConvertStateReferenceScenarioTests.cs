using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Provisioning.Terraform.State;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.State;

/// <summary>
/// The reference system's error scenarios (TestParameterValidation, TestAgentNameDuplicate,
/// TestMetadataResourceDuplicate in resources_test.go), replayed on the same corpus files. Upstream pairs
/// each tfplan.json with its tfplan.dot; where the corpus lacks that graph, the case's tfstate.dot is used,
/// which names the same resources (these checks never depend on plan-only graph nodes).
/// </summary>
public sealed class ConvertStateReferenceScenarioTests
{
    private static readonly StateConverter Converter = new();

    [Theory]
    [InlineData(1, "coder_parameter names must be unique but \"identical-0\" appears multiple times")]
    [InlineData(2, "coder_parameter names must be unique but \"identical-0\" and \"identical-1\" appear multiple times")]
    [InlineData(3, "coder_parameter names must be unique but \"identical-0\", \"identical-1\" and \"identical-2\" appear multiple times")]
    public void ConvertPlan_RichParametersRenamedIntoDuplicates_ThrowsTheReferenceMessage(int sets, string expected)
    {
        // Arrange: like upstream, give the prior state's root parameters `sets` distinct names, round robin.
        var (plan, graph) = Load("rich-parameters", "rich-parameters.tfplan.json", "rich-parameters.tfstate.dot");
        var count = 0;
        foreach (var resource in plan["prior_state"]!["values"]!["root_module"]!["resources"]!.AsArray())
        {
            if ((string?)resource!["type"] == "coder_parameter")
            {
                resource["values"]!["name"] = string.Create(CultureInfo.InvariantCulture, $"identical-{count++ % sets}");
            }
        }

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertPlan(JsonSerializer.SerializeToElement(plan), graph));

        // Assert
        Assert.Equal(expected, exception.Message);
    }

    [Fact]
    public void ConvertPlan_AgentsRenamedToDifferOnlyInCase_ThrowsDuplicateAgentName()
    {
        // Arrange
        var (plan, graph) = Load("multiple-agents", "multiple-agents.tfplan.json", "multiple-agents.tfstate.dot");
        foreach (var resource in plan["planned_values"]!["root_module"]!["resources"]!.AsArray())
        {
            if ((string?)resource!["type"] == "coder_agent")
            {
                resource["name"] = (string?)resource["name"] switch
                {
                    "dev1" => "dev",
                    "dev2" => "Dev",
                    var name => name,
                };
            }
        }

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertPlan(JsonSerializer.SerializeToElement(plan), graph));

        // Assert
        Assert.Equal("duplicate agent name: Dev", exception.Message);
    }

    [Fact]
    public void ConvertPlan_TwoMetadataOnOneResource_ThrowsDuplicateMetadataResource()
    {
        // Arrange
        var (plan, graph) = Load("resource-metadata-duplicate", "resource-metadata-duplicate.tfplan.json", "resource-metadata-duplicate.tfstate.dot");

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertPlan(JsonSerializer.SerializeToElement(plan), graph));

        // Assert
        Assert.Equal("duplicate metadata resource: null_resource.about", exception.Message);
    }

    private static (JsonNode Plan, string Graph) Load(string fixture, string planFile, string dotFile)
    {
        var folder = Path.Combine(SharedFolder.Require("fixtures/coder-resources"), fixture);
        return (JsonNode.Parse(File.ReadAllText(Path.Combine(folder, planFile)))!, File.ReadAllText(Path.Combine(folder, dotFile)));
    }
}
