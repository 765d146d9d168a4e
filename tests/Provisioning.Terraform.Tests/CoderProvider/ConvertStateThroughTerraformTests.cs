using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Provisioning.Terraform.State;
using Provisioning.Terraform.Tests.State;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.CoderProvider;

/// <summary>
/// The conformance corpus (shared/fixtures/coder-resources) run for real: each case's .tf files, with the built-in
/// <c>terraform_data</c> in place of <c>null_resource</c> (the null provider cannot be downloaded here), are applied
/// by real Terraform with the coder test provider, and the converter's output for the resulting state is compared with
/// the reference's state golden, as <see cref="ConvertStateConformanceTests"/> does for the recorded state. Ids and
/// tokens the provider generates are masked on both sides.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed partial class ConvertStateThroughTerraformTests
{
    private const string Corpus = "fixtures/coder-resources";

    /// <summary>Cases that cannot run here, and why.</summary>
    private static readonly Dictionary<string, string> NotRunnable = new(StringComparer.Ordinal)
    {
        ["kubernetes-metadata"] = "needs the kubernetes and google providers, which cannot be downloaded here and have no built-in stand-in",
        ["calling-module"] = "its module reads the null provider's null_data_source, a data source with no built-in stand-in that keeps the same graph",
        ["rich-parameters"] = "its module ./external-module is not in the corpus, so terraform init cannot load it",
    };

    /// <summary>
    /// Cases whose golden was made from a hand-edited state (MANIFEST.md), so a real run of the .tf cannot give it;
    /// for these only the fields named are left out of the comparison, everything else must match.
    /// </summary>
    private static readonly Dictionary<string, (string Field, string Reason)> HandEditedGoldens = new(StringComparer.Ordinal)
    {
        ["duplicate-env-keys"] = ("merge_strategy", "the tfstate was hand-edited to carry merge_strategy, which the .tf does not set (MANIFEST.md caveat 5)"),
    };

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        if (!SharedFolder.Exists(Corpus))
        {
            data.Add("(corpus not present)");
            return data;
        }

        foreach (var folder in Directory.GetDirectories(Path.Combine(SharedFolder.Path, Corpus)).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(folder));
        }

        return data;
    }

    [Theory(Timeout = 300_000)]
    [MemberData(nameof(Cases))]
    public async Task ConvertState_FixtureAppliedByRealTerraform_MatchesGolden(string fixture)
    {
        // Arrange
        var folder = Path.Combine(SharedFolder.Require(Corpus), fixture);
        if (NotRunnable.TryGetValue(fixture, out var reason))
        {
            Assert.Skip($"{fixture}: {reason}.");
        }

        var goldenPath = Path.Combine(folder, "converted_state.state.golden");
        if (!File.Exists(goldenPath))
        {
            Assert.Skip($"{fixture} has no state golden (see MANIFEST.md).");
        }

        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = TerraformRun.FromDirectory(folder, WithTerraformData);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        var golden = JsonNode.Parse(await File.ReadAllTextAsync(goldenPath, cancellationToken));

        // Act
        var (exitCode, output, errors) = await run.RunAsync(["apply", "-auto-approve", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        Assert.True(exitCode == 0, $"terraform apply of {fixture} failed:\n{output}\n{errors}");
        var stateJson = await run.SucceedAsync(["show", "-json"], cancellationToken: cancellationToken);
        var graph = await run.SucceedAsync(["graph", "-type=plan"], cancellationToken: cancellationToken);
        using var state = JsonDocument.Parse(stateJson);
        ConvertedState Convert() => new StateConverter().ConvertState(state.RootElement, graph);

        // Assert: a golden that is a string is the reference's error for this input.
        if (golden is JsonValue goldenValue && goldenValue.TryGetValue<string>(out var expectedError))
        {
            var exception = Assert.Throws<StateConversionException>(Convert);
            Assert.Equal(expectedError, exception.Message.Replace("terraform_data.", "null_resource.", StringComparison.Ordinal));
            return;
        }

        var expected = Assert.IsType<JsonObject>(golden);
        foreach (var field in ConvertStateConformanceTests.GoldenFieldsNotProduced.Keys)
        {
            expected.Remove(field);
        }

        var actual = GoldenJson.ToGoldenShape(ConvertStateConformanceTests.NormaliseAsGoldenGenerator(Convert()));
        var actualText = actual.ToJsonString().Replace("\"terraform_data\"", "\"null_resource\"", StringComparison.Ordinal);
        actual = JsonNode.Parse(actualText)!.AsObject();
        ConvertStateConformanceTests.MaskAppIds(expected);
        ConvertStateConformanceTests.MaskAppIds(actual);
        MaskGenerated(expected);
        MaskGenerated(actual);
        if (ConvertStateConformanceTests.GoldensPredatingScriptResourceAddress.TryGetValue((fixture, "state"), out var skew))
        {
            Assert.DoesNotContain("\"resource_address\"", expected.ToJsonString(), StringComparison.Ordinal);
            ConvertStateConformanceTests.RemoveScriptResourceAddresses(actual);
            TestContext.Current.AddWarning($"{fixture}: Script.resource_address not compared: {skew}.");
        }

        if (HandEditedGoldens.TryGetValue(fixture, out var handEdited))
        {
            RemoveField(expected, handEdited.Field);
            RemoveField(actual, handEdited.Field);
            TestContext.Current.AddWarning($"{fixture}: {handEdited.Field} not compared: {handEdited.Reason}.");
        }

        var differences = GoldenJson.Differences(expected, actual);
        Assert.True(
            differences.Count == 0,
            $"{fixture} differs from the golden:\n  {string.Join("\n  ", differences)}\n\nours:\n{actual.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }

    /// <summary>null_resource (hashicorp/null) becomes the built-in terraform_data, which has triggers_replace for triggers.</summary>
    private static string WithTerraformData(string tf) =>
        Triggers().Replace(tf.Replace("null_resource", "terraform_data", StringComparison.Ordinal), "triggers_replace =");

    /// <summary>Agent ids and tokens are new UUIDs on every apply: the golden's recorded ones cannot match, so both sides are masked where set.</summary>
    private static void MaskGenerated(JsonObject state)
    {
        foreach (var agent in (state["Resources"]?.AsArray() ?? []).SelectMany(resource => resource?["agents"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            if (agent["id"] is JsonValue id && id.TryGetValue<string>(out var text) && Guid.TryParse(text, out _))
            {
                agent["id"] = "<agent id>";
            }

            if (agent["Auth"] is JsonObject auth && auth["Token"] is JsonValue token && token.TryGetValue<string>(out var tokenText) && Guid.TryParse(tokenText, out _))
            {
                auth["Token"] = "<agent token>";
            }
        }
    }

    private static void RemoveField(JsonNode? node, string field)
    {
        switch (node)
        {
            case JsonObject objectNode:
                objectNode.Remove(field);
                foreach (var (_, child) in objectNode.ToList())
                {
                    RemoveField(child, field);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RemoveField(child, field);
                }

                break;
        }
    }

    [GeneratedRegex(@"\btriggers\s*=")]
    private static partial Regex Triggers();
}
