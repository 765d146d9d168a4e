using System.Text.Json;
using System.Text.Json.Nodes;
using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.State;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.State;

/// <summary>
/// Runs our converter over the reference system's own test corpus (shared/fixtures/coder-resources) and
/// compares the result with its golden files, one case per fixture folder and side (state, plan).
/// </summary>
public sealed class ConvertStateConformanceTests
{
    private const string Corpus = "fixtures/coder-resources";
    private const string MaskedAppId = "<app id>";

    /// <summary>
    /// Golden fields we deliberately do not produce. Each must be empty (or false) in the golden: if a
    /// golden ever carries content there, the case fails instead of silently ignoring it.
    /// </summary>
    internal static readonly Dictionary<string, string> GoldenFieldsNotProduced = new(StringComparer.Ordinal)
    {
        ["AITasks"] = "coder_ai_task is not part of our resource model (no AITask message in provisioner.proto)",
        ["HasAITasks"] = "follows AITasks, which we do not model",
        ["DLPPolicies"] = "coder_dlp_policy is not part of our resource model (no DLPPolicy message in provisioner.proto)",
    };

    /// <summary>
    /// Goldens generated before the reference added a field that other goldens of the same corpus require.
    /// Script.resource_address is in the module-script goldens (commits 3f16eab…/0217d8a…) but did not exist
    /// when the multiple-agents-multiple-scripts state golden was generated (5893fb0…): no converter can
    /// match both. For the listed cases only that field is left out of our side, the golden is checked to
    /// lack it everywhere (so a refreshed golden makes the entry fail as stale), and a warning is recorded.
    /// </summary>
    internal static readonly Dictionary<(string Fixture, string Side), string> GoldensPredatingScriptResourceAddress = new()
    {
        [("multiple-agents-multiple-scripts", "state")] = "golden from 5893fb0…, before Script.resource_address existed",
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        if (!SharedFolder.Exists(Corpus))
        {
            // One row, which then skips (or fails under CI) through SharedFolder.Require.
            data.Add("(corpus not present)", "state");
            return data;
        }

        foreach (var folder in Directory.GetDirectories(Path.Combine(SharedFolder.Path, Corpus)).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(folder), "state");
            data.Add(Path.GetFileName(folder), "plan");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvertState_ReferenceFixture_MatchesGolden(string fixture, string side)
    {
        // Arrange
        var corpus = SharedFolder.Require(Corpus);
        var folder = Path.Combine(corpus, fixture);
        var input = Directory.GetFiles(folder, $"*.tf{side}.json").SingleOrDefault();
        var dot = Directory.GetFiles(folder, $"*.tf{side}.dot").SingleOrDefault();
        var goldenPath = Path.Combine(folder, $"converted_state.{side}.golden");
        var missing = new List<string>();
        if (input is null)
        {
            missing.Add($"{fixture}.tf{side}.json");
        }

        if (dot is null)
        {
            missing.Add($"{fixture}.tf{side}.dot");
        }

        if (!File.Exists(goldenPath))
        {
            missing.Add($"converted_state.{side}.golden");
        }

        if (missing.Count > 0)
        {
            Assert.Skip($"{fixture} ({side}) is not runnable: the corpus lacks {string.Join(", ", missing)} (see MANIFEST.md).");
        }

        using var inputDocument = JsonDocument.Parse(File.ReadAllText(input!));
        var graph = File.ReadAllText(dot!);
        var golden = JsonNode.Parse(File.ReadAllText(goldenPath));
        var converter = new StateConverter();
        ConvertedState Convert() => side == "state"
            ? converter.ConvertState(inputDocument.RootElement, graph)
            : converter.ConvertPlan(inputDocument.RootElement, graph);

        // A golden that is a JSON string is the reference's error message for this input.
        if (golden is JsonValue goldenValue && goldenValue.TryGetValue<string>(out var expectedError))
        {
            // Act
            var exception = Assert.Throws<StateConversionException>(Convert);

            // Assert
            Assert.Equal(expectedError, exception.Message);
            return;
        }

        // Act
        var state = Convert();

        // Assert
        var expected = Assert.IsType<JsonObject>(golden);
        foreach (var (field, reason) in GoldenFieldsNotProduced)
        {
            if (expected.TryGetPropertyValue(field, out var value))
            {
                Assert.True(
                    value is null || value.ToJsonString() is "[]" or "false",
                    $"The golden carries {field} = {value?.ToJsonString()}, which we do not produce ({reason}).");
                expected.Remove(field);
            }
        }

        var actual = GoldenJson.ToGoldenShape(NormaliseAsGoldenGenerator(state));
        if (GoldensPredatingScriptResourceAddress.TryGetValue((fixture, side), out var skew))
        {
            Assert.DoesNotContain("\"resource_address\"", expected.ToJsonString(), StringComparison.Ordinal);
            RemoveScriptResourceAddresses(actual);
            TestContext.Current.AddWarning($"{fixture} ({side}): Script.resource_address not compared: {skew}.");
        }

        MaskAppIds(expected);
        MaskAppIds(actual);
        var differences = GoldenJson.Differences(expected, actual);
        Assert.True(
            differences.Count == 0,
            $"{fixture} ({side}) differs from the golden:\n  {string.Join("\n  ", differences)}\n\nours:\n{actual.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }

    /// <summary>
    /// The reference's golden generator (TestConvertStateGolden in resources_test.go) sorts the converter's
    /// output before writing it: resources by name then type, agents by name, and within an agent apps by
    /// slug, extra envs by name and scripts by display name (Go's sort.Slice, which is stable for lists this
    /// short). The converter itself orders by Terraform address; we apply the same sort to compare.
    /// </summary>
    internal static ConvertedState NormaliseAsGoldenGenerator(ConvertedState state)
    {
        var resources = state.Resources
            .Select(resource => resource.Clone())
            .OrderBy(resource => resource.Name, StringComparer.Ordinal)
            .ThenBy(resource => resource.Type, StringComparer.Ordinal)
            .ToList();
        foreach (var resource in resources)
        {
            foreach (var agent in resource.Agents)
            {
                Reorder(agent.Apps, app => app.Slug);
                Reorder(agent.ExtraEnvs, env => env.Name);
                Reorder(agent.Scripts, script => script.DisplayName);
            }

            Reorder(resource.Agents, agent => agent.Name);
        }

        var providers = state.ExternalAuthProviders.OrderBy(provider => provider.Id, StringComparer.Ordinal).ToList();
        return state with { Resources = resources, ExternalAuthProviders = providers };
    }

    private static void Reorder<T>(Google.Protobuf.Collections.RepeatedField<T> field, Func<T, string> key)
    {
        var sorted = field.OrderBy(key, StringComparer.Ordinal).ToList();
        field.Clear();
        field.AddRange(sorted);
    }

    internal static void RemoveScriptResourceAddresses(JsonObject state)
    {
        foreach (var resource in state["Resources"]?.AsArray() ?? [])
        {
            foreach (var agent in resource?["agents"]?.AsArray() ?? [])
            {
                foreach (var script in agent?["scripts"]?.AsArray() ?? [])
                {
                    (script as JsonObject)?.Remove("resource_address");
                }
            }
        }
    }

    /// <summary>
    /// The goldens carry app ids that the reference's test harness derives from the slug
    /// (deterministicAppIDs), not the ids in the input; we check an id is there and mask its value.
    /// </summary>
    internal static void MaskAppIds(JsonObject state)
    {
        foreach (var resource in state["Resources"]?.AsArray() ?? [])
        {
            foreach (var agent in resource?["agents"]?.AsArray() ?? [])
            {
                foreach (var app in agent?["apps"]?.AsArray() ?? [])
                {
                    if (app is JsonObject appObject && appObject["id"] is JsonValue id && id.TryGetValue<string>(out var text) && text.Length > 0)
                    {
                        appObject["id"] = MaskedAppId;
                    }
                }
            }
        }
    }

    [Fact]
    public void GoldenShape_AgentWithTokenAndOptionalZero_FollowsGoEncoding()
    {
        // Arrange
        var parameter = new RichParameter { Name = "n", ValidationMin = 0 };
        var agent = new Agent { Name = "a", Token = "", ResourcesMonitoring = new ResourcesMonitoring() };
        agent.Metadata.Add(new Agent.Types.Metadata { Key = "k", Interval = 5 });

        // Act
        var parameterJson = GoldenJson.Message(parameter)!.ToJsonString();
        var agentJson = GoldenJson.Message(agent)!.ToJsonString();

        // Assert
        Assert.Equal("""{"name":"n","validation_min":0}""", parameterJson);
        Assert.Equal("""{"name":"a","metadata":[{"key":"k","interval":5}],"resources_monitoring":{},"Auth":{"Token":""}}""", agentJson);
    }
}
