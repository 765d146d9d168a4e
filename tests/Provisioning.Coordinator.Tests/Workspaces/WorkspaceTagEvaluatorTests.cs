using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Tests.Workspaces;

/// <summary>Workspace tag expressions evaluated as Coder's wsbuilder evaluates them: var.NAME and data.coder_parameter.NAME.value as strings, HCL's operators and conversions.</summary>
public sealed class WorkspaceTagEvaluatorTests
{
    private static readonly Dictionary<string, string> Parameters = new() { ["region"] = "us", ["cache"] = "true", ["cpus"] = "4", ["project"] = "Alpha" };
    private static readonly Dictionary<string, string> Variables = new() { ["az"] = "us-east-1a" };

    private static string Tag(string expression) =>
        WorkspaceTagEvaluator.Evaluate(new Dictionary<string, string> { ["t"] = expression }, Parameters, Variables)["t"];

    private static string Refused(string expression)
    {
        var exception = Assert.Throws<ApiProblemException>(() => Tag(expression));
        Assert.Equal(400, exception.Status);
        return exception.Message;
    }

    [Theory]
    [InlineData("\"developers\"", "developers")]
    [InlineData("data.coder_parameter.region.value", "us")]
    [InlineData("var.az", "us-east-1a")]
    [InlineData("\"PROJECT_${data.coder_parameter.project.value}\"", "PROJECT_Alpha")]
    [InlineData("data.coder_parameter.cache.value == \"true\" ? \"with-cache\" : \"no-cache\"", "with-cache")]
    [InlineData("!data.coder_parameter.cache.value", "false")]
    [InlineData("data.coder_parameter.cpus.value * 2", "8")]
    [InlineData("data.coder_parameter.cpus.value > 2 && data.coder_parameter.region.value != \"eu\"", "true")]
    [InlineData("lower(data.coder_parameter.project.value)", "alpha")]
    [InlineData("3.50", "3.5")]
    [InlineData("data.coder_parameter[\"region\"].value", "us")]
    [InlineData("(\n  data.coder_parameter.region.value\n)", "us")]
    public void Evaluate_SupportedSyntax_GivesTheTagText(string expression, string expected) =>
        Assert.Equal(expected, Tag(expression));

    [Fact]
    public void Evaluate_NumberComparedToItsText_IsNotEqual_AsInHcl() =>
        Assert.Equal("false", Tag("data.coder_parameter.cpus.value == 4"));

    [Fact]
    public void Evaluate_AResourceReference_IsRefusedNamingTheTag()
    {
        var message = Refused("compute_instance.dev.name");

        Assert.Contains("Workspace tag \"t\" = compute_instance.dev.name cannot be evaluated", message, StringComparison.Ordinal);
        Assert.Contains("var.NAME and data.coder_parameter.NAME.value", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_AnotherDataSource_IsRefused() =>
        Assert.Contains("\"local_file\"", Refused("data.local_file.hostname.content"), StringComparison.Ordinal);

    [Fact]
    public void Evaluate_AFileFunction_IsRefusedListingTheAvailableOnes() =>
        Assert.Contains("file() is not available", Refused("file(\"/etc/passwd\")"), StringComparison.Ordinal);

    [Fact]
    public void Evaluate_AListValue_IsRefusedAsNotATag() =>
        Assert.Contains("a list", Refused("[\"a\", \"b\"]"), StringComparison.Ordinal);

    [Fact]
    public void Evaluate_ANotBoolString_IsRefusedByNot() =>
        Assert.Contains("a bool is required", Refused("!data.coder_parameter.region.value"), StringComparison.Ordinal);

    [Fact]
    public void Evaluate_BadSyntax_IsRefusedWithTheParsersReason() =>
        Assert.Contains("cannot be evaluated", Refused("data.coder_parameter.region.value +"), StringComparison.Ordinal);
}
