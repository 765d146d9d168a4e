using System.Text.Json;

using Provisioning.Terraform.Execution;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.CoderProvider;

/// <summary>
/// The coder test provider's checks through real Terraform, with the real provider's messages (read from
/// coder/terraform-provider-coder v2.17.0 provider/parameter.go, formtype.go, app.go, agent.go, script.go, metadata.go).
/// Each case is one data source or resource of one template, so one plan shows them all.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class CoderProviderValidationTests
{
    private const string Header = CoderTemplateText.RequiredProviders;

    /// <summary>(name, HCL body, user value or null, previous value or null, summary, detail).</summary>
    private static readonly (string Name, string Body, string? Value, string? Previous, string Summary, string Detail)[] ParameterCases =
    [
        ("over_max", "type = \"number\"\ndefault = 2\nvalidation {\nmin = 1\nmax = 8\n}", "12", null,
            "Invalid parameter value according to 'validation' block", "value 12 is more than the maximum 8"),
        ("under_min_default", "type = \"number\"\ndefault = 0\nvalidation {\nmin = 1\nmax = 8\n}", null, null,
            "Invalid parameter default value according to 'validation' block", "value 0 is less than the minimum 1"),
        ("rendered_error", "type = \"number\"\ndefault = 2\nvalidation {\nmin = 1\nmax = 8\nerror = \"{value} is not within {min} and {max}\"\n}", "9", null,
            "Invalid parameter value according to 'validation' block", "9 is not within 1 and 8"),
        ("regex", "default = \"abc\"\nvalidation {\nregex = \"^[a-z]+$\"\nerror = \"lowercase letters only\"\n}", "ABC", null,
            "Invalid parameter value according to 'validation' block", "lowercase letters only (value \"ABC\" does not match \"^[a-z]+$\")"),
        ("regex_without_error", "default = \"abc\"\nvalidation {\nregex = \"^[a-z]+$\"\n}", null, null,
            "Invalid parameter default value according to 'validation' block", "an error must be specified with a regex validation"),
        ("monotonic", "type = \"number\"\ndefault = 5\nmutable = true\nvalidation {\nmin = 1\nmax = 10\nmonotonic = \"increasing\"\n}", "3", "5", 
            "Invalid parameter value according to 'validation' block", "parameter value '3' must be equal or greater than previous value: 5"),
        ("not_an_option", "default = \"eu\"\noption {\nname = \"Europe\"\nvalue = \"eu\"\n}", "mars", null,
            "Value must be a valid option", "the value \"mars\" must be defined as one of options"),
        ("empty_not_an_option", "option {\nname = \"Europe\"\nvalue = \"eu\"\n}\nvalidation {\n}", null, null,
            "Value must be a valid option. The value is empty, did you forget to set it with a default or from user input?", "the value \"\" must be defined as one of options"),
        ("not_a_bool", "type = \"bool\"\ndefault = true", "maybe", null,
            "Parameter value is not of type \"bool\"", "\"maybe\" is not a bool"),
        ("not_a_list", "type = \"list(string)\"\ndefault = \"[]\"", "git", null,
            "Parameter value is not of type \"list(string)\"", "value \"git\" is not a valid list of strings"),
        ("list_missing_options", "type = \"list(string)\"\nform_type = \"multi-select\"\ndefault = \"[]\"\noption {\nname = \"Red\"\nvalue = \"red\"\n}", "[\"red\",\"yellow\",\"black\"]", null,
            "Values must be a valid option", "Value \"[\\\"red\\\",\\\"yellow\\\",\\\"black\\\"]\" is not a valid option, values \"yellow, black\" are missing from the options"),
        ("bad_form_type", "default = \"x\"\nform_type = \"checkbox\"", null, null,
            "Invalid form_type for parameter", "\"form_type\" attribute=\"checkbox\" is not supported for \"type\"=\"string\", choose one of [input textarea]"),
        ("immutable_ephemeral", "default = \"x\"\nephemeral = true", null, null,
            "parameter can't be immutable and ephemeral", ""),
        ("ephemeral_without_default", "mutable = true\nephemeral = true", null, null,
            "ephemeral parameter requires the default property", ""),
        ("duplicate_option_names", "default = \"a\"\noption {\nname = \"A\"\nvalue = \"a\"\n}\noption {\nname = \"A\"\nvalue = \"b\"\n}", null, null,
            "Option names must be unique.", "multiple options found with the same name \"A\""),
        ("min_for_string", "default = \"a\"\nvalidation {\nmin = 1\n}", null, null,
            "Invalid parameter default value according to 'validation' block", "a min cannot be specified for a string type"),
    ];

    [Fact(Timeout = 300_000)]
    public async Task ParameterChecks_ThroughRealTerraform_FailWithTheRealProvidersMessages()
    {
        // Arrange: one coder_parameter per case, the user's values and previous values in the provider's variables.
        var cancellationToken = TestContext.Current.CancellationToken;
        var template = Header + string.Concat(ParameterCases.Select(item => $"data \"coder_parameter\" \"{item.Name}\" {{\nname = \"{item.Name}\"\n{item.Body}\n}}\n\n"));
        using var run = new TerraformRun(template);
        var environment = new Dictionary<string, string?>();
        foreach (var item in ParameterCases)
        {
            if (item.Value is not null)
            {
                environment[TerraformEnvironment.ParameterVariableName(item.Name)] = item.Value;
            }

            if (item.Previous is not null)
            {
                environment["CODER_PARAMETER_PREVIOUS_" + TerraformEnvironment.ParameterVariableName(item.Name)["CODER_PARAMETER_".Length..]] = item.Previous;
            }
        }

        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        var (exitCode, output, _) = await run.RunAsync(["plan", "-input=false", "-json"], environment, cancellationToken);

        // Assert: each parameter fails with its message, and nothing else fails.
        Assert.Equal(1, exitCode);
        var errors = ErrorsByAddress(output);
        foreach (var item in ParameterCases)
        {
            Assert.True(errors.TryGetValue($"data.coder_parameter.{item.Name}", out var error), $"{item.Name} did not fail; errors: {string.Join("; ", errors.Select(pair => pair.Key))}");
            Assert.Equal((item.Summary, item.Detail), error);
        }

        Assert.Equal(ParameterCases.Length, errors.Count);
    }

    [Fact(Timeout = 300_000)]
    public async Task ParameterChecks_WithValidValues_PassAndTakeTheValue()
    {
        // Arrange: values that satisfy each kind of check, some from the user and some from defaults.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(Header + """
            data "coder_parameter" "cpus" {
              name    = "cpus"
              type    = "number"
              default = 2
              mutable = true
              validation {
                min       = 1
                max       = 8
                monotonic = "increasing"
              }
            }

            data "coder_parameter" "name" {
              name    = "name"
              default = "abc"
              validation {
                regex = "^[a-z]+$"
                error = "lowercase"
              }
            }

            data "coder_parameter" "colors" {
              name      = "colors"
              type      = "list(string)"
              form_type = "multi-select"
              default   = "[]"
              option {
                name  = "Red"
                value = "red"
              }
              option {
                name  = "Blue"
                value = "blue"
              }
            }

            data "coder_parameter" "required" {
              name = "required"
            }

            output "values" {
              value = [data.coder_parameter.cpus.value, data.coder_parameter.name.value, data.coder_parameter.colors.value, data.coder_parameter.required.value]
            }
            """);
        var environment = new Dictionary<string, string?>
        {
            [TerraformEnvironment.ParameterVariableName("cpus")] = "6",
            ["CODER_PARAMETER_PREVIOUS_" + TerraformEnvironment.ParameterVariableName("cpus")["CODER_PARAMETER_".Length..]] = "6",
            [TerraformEnvironment.ParameterVariableName("colors")] = "[\"red\",\"blue\"]",
        };
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        await run.SucceedAsync(["apply", "-auto-approve", "-input=false", "-no-color"], environment, cancellationToken);
        var outputs = await run.SucceedAsync(["output", "-json", "values"], environment, cancellationToken);

        // Assert: a required parameter without a value reads as "" (the real provider leaves the check to Coder).
        Assert.Equal(["6", "abc", "[\"red\",\"blue\"]", ""], JsonSerializer.Deserialize<string[]>(outputs)!);
    }

    [Fact(Timeout = 300_000)]
    public async Task ResourceChecks_ThroughRealTerraform_FailWithTheRealProvidersMessages()
    {
        // Arrange: resources whose configuration the real provider rejects when validating or planning.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(Header + """
            resource "coder_agent" "bad_os" {
              os   = "plan9"
              arch = "amd64"
            }

            resource "coder_app" "bad_slug" {
              agent_id = "a"
              slug     = "Not--A-Slug"
            }

            resource "coder_app" "bad_share" {
              agent_id = "a"
              slug     = "share"
              share    = "everyone"
            }

            resource "coder_env" "bad_name" {
              agent_id = "a"
              name     = "1BAD"
            }
            """);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        var (exitCode, output, _) = await run.RunAsync(["plan", "-input=false", "-json"], cancellationToken: cancellationToken);

        // Assert
        Assert.Equal(1, exitCode);
        var errors = ErrorsByAddress(output);
        Assert.Equal("expected os to be one of [\"linux\" \"darwin\" \"windows\"], got plan9", errors["coder_agent.bad_os"].Summary);
        Assert.Equal("invalid \"coder_app\" slug, must be a valid hostname (\"^[a-z0-9](-?[a-z0-9])*$\", cannot contain two consecutive hyphens or start/end with a hyphen): \"Not--A-Slug\"",
            errors["coder_app.bad_slug"].Summary);
        Assert.Equal("invalid app share \"everyone\", must be one of \"owner\", \"authenticated\", \"public\"", errors["coder_app.bad_share"].Summary);
        Assert.Equal("invalid value for name (must be a valid environment variable name)", errors["coder_env.bad_name"].Summary);
    }

    [Fact(Timeout = 300_000)]
    public async Task DuplicateMetadataKeys_OnPlan_FailAsTheRealProvidersCustomizeDiffDoes()
    {
        // Arrange: a configuration that validates, but whose plan the real provider rejects.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(Header + """
            resource "coder_agent" "dev" {
              os   = "linux"
              arch = "amd64"
              metadata {
                key      = "cpu"
                script   = "echo 1"
                interval = 1
              }
              metadata {
                key      = "cpu"
                script   = "echo 2"
                interval = 1
              }
            }

            resource "coder_metadata" "box" {
              resource_id = "independent"
              item {
                key   = "size"
                value = "1"
              }
              item {
                key   = "size"
                value = "2"
              }
            }
            """);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        var (exitCode, output, _) = await run.RunAsync(["plan", "-input=false", "-json"], cancellationToken: cancellationToken);

        // Assert
        Assert.Equal(1, exitCode);
        var errors = ErrorsByAddress(output);
        Assert.Equal("duplicate agent metadata key \"cpu\"", errors["coder_agent.dev"].Summary);
        Assert.Equal("duplicate resource metadata key \"size\"", errors["coder_metadata.box"].Summary);
    }

    [Fact(Timeout = 300_000)]
    public async Task ScriptWithoutATrigger_OnApply_FailsAsTheRealProviderDoes()
    {
        // Arrange: the real provider checks a script's triggers when it creates it, not before.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var run = new TerraformRun(Header + """
            resource "coder_script" "never" {
              agent_id     = "a"
              display_name = "Never"
              script       = "echo never"
            }
            """);
        await run.SucceedAsync(["init", "-input=false", "-no-color"], cancellationToken: cancellationToken);
        await run.SucceedAsync(["plan", "-input=false", "-no-color"], cancellationToken: cancellationToken);

        // Act
        var (exitCode, output, _) = await run.RunAsync(["apply", "-auto-approve", "-input=false", "-json"], cancellationToken: cancellationToken);

        // Assert
        Assert.Equal(1, exitCode);
        Assert.Equal("at least one of \"run_on_start\", \"run_on_stop\", or \"cron\" must be set", ErrorsByAddress(output)["coder_script.never"].Summary);
    }

    private static Dictionary<string, (string Summary, string Detail)> ErrorsByAddress(string jsonLines)
    {
        var errors = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var line in jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("diagnostic", out var diagnostic) && diagnostic.GetProperty("severity").GetString() == "error")
            {
                var address = diagnostic.TryGetProperty("address", out var value) ? value.GetString()! : "(none)";
                errors[address] = (diagnostic.GetProperty("summary").GetString()!, diagnostic.TryGetProperty("detail", out var detail) ? detail.GetString()! : "");
            }
        }

        return errors;
    }
}
