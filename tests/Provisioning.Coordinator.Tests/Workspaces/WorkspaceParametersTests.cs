using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Tests.Workspaces;

/// <summary>The resolution and validation rules of Coder's wsbuilder / ParameterResolver and its provider's messages.</summary>
public sealed class WorkspaceParametersTests
{
    private static WorkspaceParameter Number(string name, int? min = null, int? max = null, string monotonic = "", string error = "", bool mutable = true) =>
        WorkspaceParameter.Simple(name, "number", "1", mutable: mutable) with { ValidationMin = min, ValidationMax = max, ValidationMonotonic = monotonic, ValidationError = error };

    private static string Refused(IReadOnlyList<WorkspaceParameter> parameters, (string, string)[] given, Dictionary<string, string>? previous = null)
    {
        var exception = Assert.Throws<ApiProblemException>(() => WorkspaceParameters.Resolve(parameters, [.. given.Select(pair => KeyValuePair.Create(pair.Item1, pair.Item2))], previous));
        Assert.Equal(400, exception.Status);
        return exception.Message;
    }

    private static Dictionary<string, string> Resolved(IReadOnlyList<WorkspaceParameter> parameters, (string, string)[] given, Dictionary<string, string>? previous = null, Dictionary<string, string>? preset = null) =>
        WorkspaceParameters.Resolve(parameters, [.. given.Select(pair => KeyValuePair.Create(pair.Item1, pair.Item2))], previous, preset);

    [Fact]
    public void Resolve_GivenPreviousDefault_TakesThemInThatOrder()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("a", defaultValue: "da"), WorkspaceParameter.Simple("b", defaultValue: "db"), WorkspaceParameter.Simple("c", defaultValue: "dc")];

        var values = Resolved(parameters, [("a", "given")], new() { ["a"] = "old-a", ["b"] = "old-b" });

        Assert.Equal(new Dictionary<string, string> { ["a"] = "given", ["b"] = "old-b", ["c"] = "dc" }, values);
    }

    [Fact]
    public void Resolve_EphemeralParameter_IsNotInheritedFromThePreviousBuild()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("reset", "bool", "false", ephemeral: true)];

        var values = Resolved(parameters, [], new() { ["reset"] = "true" });

        Assert.Equal("false", values["reset"]);
    }

    [Fact]
    public void Resolve_ImmutableParameterChanged_IsRefusedWithCodersMessage()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("region", mutable: false)];

        var detail = Refused(parameters, [("region", "us")], new() { ["region"] = "eu" });

        Assert.Contains("Parameter \"region\" is not mutable, so it can't be updated after creating a workspace", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ImmutableParameterGivenItsOwnValue_IsAccepted()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("region", mutable: false)];

        Assert.Equal("eu", Resolved(parameters, [("region", "eu")], new() { ["region"] = "eu" })["region"]);
    }

    [Fact]
    public void Resolve_RequiredWithoutValueOrPrevious_IsRefused()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("region", required: true)];

        Assert.Contains("Parameter \"region\" is required but not provided", Refused(parameters, []), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_RequiredGivenEmpty_IsRefusedAsRequired()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("region", required: true) with { DisplayName = "Region" }];

        Assert.Contains("can't validate build parameter \"Region\": parameter value is required", Refused(parameters, [("region", "")]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ValueNotAnOption_ListsTheOptions()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("region", defaultValue: "eu") with { OptionValues = ["eu", "us"] }];

        Assert.Contains("parameter value must match one of options: [eu us]", Refused(parameters, [("region", "mars")]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MultiSelectList_AcceptsOnlyOptionElements()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("tools", "list(string)", "[]") with { FormType = "multiselect", OptionValues = ["git", "vim"] }];

        Assert.Equal("[\"git\"]", Resolved(parameters, [("tools", "[\"git\"]")])["tools"]);
        Assert.Contains("must match one of options", Refused(parameters, [("tools", "[\"emacs\"]")]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_RegexMismatch_UsesTheTemplatesErrorAndNamesThePattern()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("name") with { ValidationRegex = "^[a-z]+$", ValidationError = "lowercase letters only" }];

        Assert.Contains("lowercase letters only (value \"Abc\" does not match \"^[a-z]+$\")", Refused(parameters, [("name", "Abc")]), StringComparison.Ordinal);
        Assert.Equal("abc", Resolved(parameters, [("name", "abc")])["name"]);
    }

    [Fact]
    public void Resolve_RegexWithoutError_IsRefusedAsTheProviderDoes()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("name") with { ValidationRegex = "^[a-z]+$" }];

        Assert.Contains("an error must be specified with a regex validation", Refused(parameters, [("name", "abc")]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "value 0 is less than the minimum 1")]
    [InlineData("9", "value 9 is more than the maximum 8")]
    [InlineData("x", "value \"x\" is not a number")]
    public void Resolve_NumberOutOfRange_UsesTheProvidersMessages(string value, string expected)
    {
        WorkspaceParameter[] parameters = [Number("cpus", min: 1, max: 8)];

        Assert.Contains(expected, Refused(parameters, [("cpus", value)]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NumberWithCustomError_RendersMinMaxAndValue()
    {
        WorkspaceParameter[] parameters = [Number("cpus", min: 1, max: 8, error: "{value} is not between {min} and {max}")];

        Assert.Contains("12 is not between 1 and 8", Refused(parameters, [("cpus", "12")]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MonotonicIncreasing_RefusesALowerValueThanThePreviousBuilds()
    {
        WorkspaceParameter[] parameters = [Number("disk", monotonic: "increasing")];

        Assert.Contains("parameter value '5' must be equal or greater than previous value: 10", Refused(parameters, [("disk", "5")], new() { ["disk"] = "10" }), StringComparison.Ordinal);
        Assert.Equal("12", Resolved(parameters, [("disk", "12")], new() { ["disk"] = "10" })["disk"]);
        Assert.Equal("5", Resolved(parameters, [("disk", "5")])["disk"]);
    }

    [Fact]
    public void Resolve_MonotonicDecreasing_RefusesAHigherValue()
    {
        WorkspaceParameter[] parameters = [Number("quota", monotonic: "decreasing")];

        Assert.Contains("parameter value '11' must be equal or lower than previous value: 10", Refused(parameters, [("quota", "11")], new() { ["quota"] = "10" }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bool", "yes", "boolean value can be either \"true\" or \"false\"")]
    [InlineData("number", "many", "\"many\" is not a number")]
    [InlineData("list(string)", "a,b", "is not valid list of strings")]
    public void Resolve_WrongType_IsRefused(string type, string value, string expected)
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("p", type, type == "list(string)" ? "[]" : "1")];

        Assert.Contains(expected, Refused(parameters, [("p", value)]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MinOnAString_IsATemplateErrorReported()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("p") with { ValidationMin = 1 }];

        Assert.Contains("a min cannot be specified for a string type", Refused(parameters, [("p", "x")]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnknownName_IsRefusedNamingTheParameters()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("region")];

        Assert.Contains("has no parameter 'zone'; it has: region", Refused(parameters, [("zone", "x")]), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Preset_WinsOverAGivenValue()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("size", defaultValue: "s")];

        var values = Resolved(parameters, [("size", "m")], preset: new() { ["size"] = "xl" });

        Assert.Equal("xl", values["size"]);
    }

    [Fact]
    public void Resolve_PresetValueStillValidated()
    {
        WorkspaceParameter[] parameters = [WorkspaceParameter.Simple("size", defaultValue: "s") with { OptionValues = ["s", "m"] }];

        var exception = Assert.Throws<ApiProblemException>(() => WorkspaceParameters.Resolve(parameters, [], null, new Dictionary<string, string> { ["size"] = "xl" }));

        Assert.Contains("must match one of options: [s m]", exception.Message, StringComparison.Ordinal);
    }
}
