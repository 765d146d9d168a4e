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

        var terraformJson = await EvaluateAsync(terraform, module.Directory, expression, cancellationToken);

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

    private static async Task<string> EvaluateAsync(string terraform, string directory, string expression, CancellationToken cancellationToken)
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

        Assert.True(process.ExitCode == 0, $"terraform console failed: {await error}");

        // The console prints the jsonencode result as an HCL string literal, which is also a JSON string.
        return JsonSerializer.Deserialize<string>((await output).Trim())!;
    }
}
