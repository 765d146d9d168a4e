using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Provisioning.Terraform.Hcl;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Hcl;

/// <summary>
/// Compares the defaults the reader converts with what real Terraform evaluates for the same file
/// (<c>terraform console</c> needs no providers and no init, so this runs offline).
/// </summary>
public sealed class TerraformConsoleCrossCheckTests
{
    private const string Template = """
        variable "text" {
          type    = string
          default = "quote \" backslash \\ tab \t unicode \u00e9 \U0001F600 $${literal}"
        }

        variable "numbers" {
          type    = list(number)
          default = [0, -2, 3.50, 1e3, -1.25e-2, 123456789012]
        }

        variable "flags" {
          default = { on = true, off = false, none = null }
        }

        variable "nested" {
          type = object({
            name = string
            tags = map(string)
            list = list(object({ a = number }))
          })
          default = {
            name = "n"
            "tags" : { "k-1" = "v" }
            list = [{ a = 1 }, { a = 2 }]
          }
        }

        variable "indented" {
          default = <<-EOT
              first

            second
                third
            EOT
        }

        variable "tabs" {
          default = <<-EOT
        	tabbed
        	  more
        	EOT
        }

        variable "plain_heredoc" {
          default = <<EOT
          kept "as is" \n
        EOT
        }

        variable "duplicate_keys" {
          default = { b = 1, a = 2, a = 3 }
        }

        variable "nothing" {
          default = null
        }
        """;

    [Fact]
    public async Task Defaults_MatchTerraformConsole()
    {
        var terraform = TerraformRequirement.Require();
        var cancellationToken = TestContext.Current.CancellationToken;
        using var module = TemporaryModule.With(("main.tf", Template));
        var variables = new TerraformModuleReader().ReadDirectory(module.Directory, cancellationToken).Variables;
        var expression = "jsonencode({" + string.Join(", ", variables.Select(variable => $"{variable.Name} = var.{variable.Name}")) + "})";

        var (exitCode, output, error) = await RunConsoleAsync(terraform, module.Directory, expression, cancellationToken);
        Assert.True(exitCode == 0, $"terraform console failed: {error}");

        // The console prints the jsonencode result as an HCL string literal, which is also a JSON string.
        var terraformJson = JsonSerializer.Deserialize<string>(output.Trim())!;

        var expected = JsonNode.Parse(terraformJson)!.AsObject();
        Assert.Equal(expected.Select(pair => pair.Key).Order(StringComparer.Ordinal), variables.Select(variable => variable.Name).Order(StringComparer.Ordinal));
        foreach (var variable in variables)
        {
            var ours = JsonNode.Parse(variable.DefaultJson!);
            Assert.True(
                JsonNode.DeepEquals(Canonical(expected[variable.Name]), Canonical(ours)),
                $"variable {variable.Name}: terraform says {expected[variable.Name]?.ToJsonString()}, the reader says {variable.DefaultJson}");
        }
    }

    /// <summary>Numbers compared by value (Terraform and the reader may spell them differently).</summary>
    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => KeyValuePair.Create(pair.Key, Canonical(pair.Value)))),
        JsonArray array => new JsonArray(array.Select(Canonical).ToArray()),
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => JsonValue.Create(value.GetValue<decimal>()),
        _ => node?.DeepClone(),
    };

    public static TheoryData<string> TypeConstraints =>
    [
        "string", "number", "bool", "any", "list", "map", "set", "String", "strin", "(string)", "\"string\"",
        "list(string)", "set(map(bool))", "map(string...)", "list(string, number)", "list((string))",
        "object({})", "object({ a = number, })", "object({ a-b = optional(number, 3) })", "object({ \"quoted\" = number })",
        "object({ (a) = string })", "object({ a = optional(string, \"x\", 3) })", "list(object({ a = optional(string) }))",
        "optional(string)", "tuple([])", "tuple([string, number])", "tuple(string)", "object",
    ];

    [Theory]
    [MemberData(nameof(TypeConstraints))]
    public async Task TypeConstraint_AcceptedExactlyWhenTerraformAcceptsIt(string type)
    {
        var terraform = TerraformRequirement.Require();
        var cancellationToken = TestContext.Current.CancellationToken;
        using var module = TemporaryModule.With(("main.tf", $"variable \"v\" {{\n  type    = {type}\n  default = null\n}}\n"));

        var (exitCode, _, error) = await RunConsoleAsync(terraform, module.Directory, "1", cancellationToken);
        var readerError = Record.Exception(() => new TerraformModuleReader().ReadDirectory(module.Directory, cancellationToken));

        Assert.True((exitCode == 0) == (readerError is null), $"terraform: exit {exitCode} {error}; reader: {readerError?.Message ?? "accepted"}");
    }

    /// <summary>
    /// Defaults against types. Not listed: mixed element types under list(any)/map(any), which
    /// Terraform refuses after unifying and the reader leaves to Terraform.
    /// </summary>
    public static TheoryData<string, string> TypedDefaults => new()
    {
        { "bool", "\"1\"" }, { "bool", "\"false\"" }, { "bool", "\"yes\"" }, { "bool", "1" },
        { "number", "true" }, { "number", "\" 1 \"" }, { "number", "\"1e3\"" }, { "number", "\"+1\"" }, { "number", "\"-2.5\"" }, { "number", "\"0x10\"" },
        { "string", "[1]" }, { "string", "true" }, { "string", "12" }, { "string", "{}" },
        { "object({ a = number })", "{ a = 1, b = 2 }" }, { "object({ a = number })", "{}" }, { "object({ a = optional(number) })", "{}" },
        { "object({ a = object({ b = bool }) })", "{ a = { b = \"maybe\" } }" }, { "object({ a = number })", "[]" },
        { "map(string)", "{ a = 1, b = true }" }, { "map(number)", "[1]" }, { "map(number)", "{ a = \"x\" }" },
        { "list(number)", "{ a = 1 }" }, { "list(number)", "[1, \"2\", null]" }, { "list(number)", "[1, \"two\"]" }, { "list(any)", "[1, \"a\"]" },
        { "tuple([number])", "[1, 2]" }, { "tuple([number, string])", "[1, 2]" }, { "tuple([number, bool])", "[1, \"x\"]" },
        { "set(string)", "[\"a\", \"a\"]" }, { "list", "[1, \"a\"]" }, { "list", "\"a\"" }, { "map", "{ a = 1 }" }, { "map", "[]" },
        { "any", "[1, [2]]" }, { "string", "null" }, { "list(object({ a = optional(string, \"x\") }))", "[{}, { a = 1 }, { a = [] }]" },
    };

    [Theory]
    [MemberData(nameof(TypedDefaults))]
    public async Task DefaultMatchingType_AcceptedExactlyWhenTerraformAcceptsIt(string type, string defaultValue)
    {
        var terraform = TerraformRequirement.Require();
        var cancellationToken = TestContext.Current.CancellationToken;
        using var module = TemporaryModule.With(("main.tf", $"variable \"v\" {{\n  type    = {type}\n  default = {defaultValue}\n}}\n"));

        var (exitCode, _, error) = await RunConsoleAsync(terraform, module.Directory, "1", cancellationToken);
        var readerError = Record.Exception(() => new TerraformModuleReader().ReadDirectory(module.Directory, cancellationToken));

        Assert.True((exitCode == 0) == (readerError is null), $"terraform: exit {exitCode} {error}; reader: {readerError?.Message ?? "accepted"}");
    }

    public static TheoryData<string> VariableArguments =>
    [
        "sensitive = true", "sensitive = \"true\"", "sensitive = \"1\"", "nullable = \"false\"", "nullable = \"0\"",
        "sensitive = 1", "sensitive = null", "sensitive = \"yes\"", "description = 5", "description = true", "description = null",
        "description = [\"a\"]", "description = <<EOT\nText\nEOT",
    ];

    [Theory]
    [MemberData(nameof(VariableArguments))]
    public async Task VariableArgument_AcceptedExactlyWhenTerraformAcceptsIt(string argument)
    {
        var terraform = TerraformRequirement.Require();
        var cancellationToken = TestContext.Current.CancellationToken;
        using var module = TemporaryModule.With(("main.tf", $"variable \"v\" {{\n  {argument}\n  default = 1\n}}\n"));

        var (exitCode, _, error) = await RunConsoleAsync(terraform, module.Directory, "1", cancellationToken);
        var readerError = Record.Exception(() => new TerraformModuleReader().ReadDirectory(module.Directory, cancellationToken));

        Assert.True((exitCode == 0) == (readerError is null), $"terraform: exit {exitCode} {error}; reader: {readerError?.Message ?? "accepted"}");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunConsoleAsync(string terraform, string directory, string expression, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(terraform, "console")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["TF_IN_AUTOMATION"] = "1";
        start.Environment["CHECKPOINT_DISABLE"] = "1";
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteLineAsync(expression.AsMemory(), cancellationToken);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}
