using System.Diagnostics;
using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.Hcl;

/// <summary>
/// Uses <c>terraform fmt -</c> (a pure syntax check, offline) as the oracle: for each snippet, both
/// Terraform and the reader must accept it, or both must reject it.
/// The reader is deliberately more lenient in a few places where Terraform itself will report the
/// problem at plan time, so those are not listed here: a newline right after a binary operator or
/// "?", "{ for = 1 }" as an object, a one-line block whose "}" is on a later line or that nests a
/// block, "foo.0.1", and a heredoc whose opener has trailing blanks or whose closer ends the file.
/// </summary>
public sealed class TerraformFmtSyntaxAgreementTests
{
    public static TheoryData<string, bool> Snippets => new()
    {
        { "b { a = 1 }\n", true },
        { "block \"a\" b \"c\" {}\nempty {}\n", true },
        { "a = f(<<EOT\nx\nEOT\n)\n", true },
        { "a = [<<EOT\nx\nEOT\n, 2]\n", true },
        { "a = <<EOT\nx\n  EOT  \n", true },
        { "a = <<-EOT\n\tx\n  y\n  EOT\n", true },
        { "a = \"${ {a = \"}\"}[\"a\"] }\"\n", true },
        { "a = 1 /* c\n */ + 2\n", true },
        { "a = -1e-3\nb = 2.5E+4\n", true },
        { "a = \"a\" /* x */ # y\n", true },
        { "a = \"\\u00e9 \\\" \\\\ \\n $${x} %%{y}\"\n", true },
        { "a = x[*].y[0]\nb = x.*.id\nc = x.0\n", true },
        { "a = {\n  (var.k) = 1\n  \"x\" : 2, y = 3,\n}\n", true },
        { "a = tomap({\"a\"=\"b\"}) == {} && !false || 1 % 2 >= 0\n", true },
        { "a = provider::x::y(1)\n", true },
        { "a = [for x in y: x if x != \"\"]\nb = {for k, v in m : k => v...}\n", true },
        { "a = \"%{ for x in xs ~}${x}%{ endfor ~} %{ if a }b%{ else }c%{ endif }\"\n", true },
        { "a = x ? y : z ? 1 : 2\n", true },
        { "a = max(xs...)\n", true },
        { "a-b = c-d\n", true },
        { "a = (\n  1 +\n  2\n)\n", true },
        { "a = 1\na = 2\n", false },
        { "a = { b = 1 c = 2 }\n", false },
        { "a = \"\\q\"\n", false },
        { "a = \"%{ if x }\"\n", false },
        { "a = \"%{ endif }\"\n", false },
        { "a = f(x..., y)\n", false },
        { "a = 1.\n", false },
        { "a = .5\n", false },
        { "a = \"a\n", false },
        { "block \"${x}\" {}\n", false },
        { "a = b\n  [0]\n", false },
        { "a 1\n", false },
        { "b {\n  a = 1\n", false },
        { "a = 1\n}\n", false },
        { "a = 1 b = 2\n", false },
        { "a = 'x'\n", false },
        { "a = <<EOT\nx\n", false },
        { "a = \"${x\"\n", false },
        { "a = [1, 2\n", false },
    };

    [Theory]
    [MemberData(nameof(Snippets))]
    public async Task Parse_AgreesWithTerraformFmt(string snippet, bool valid)
    {
        var terraform = TerraformRequirement.Require();

        var terraformAccepts = await TerraformFmtAcceptsAsync(terraform, snippet, TestContext.Current.CancellationToken);
        var readerError = Record.Exception(() => HclParser.Parse(snippet, "main.tf"));

        Assert.Equal(valid, terraformAccepts);
        if (valid)
        {
            Assert.Null(readerError);
        }
        else
        {
            Assert.IsType<HclSyntaxException>(readerError);
        }
    }

    private static async Task<bool> TerraformFmtAcceptsAsync(string terraform, string snippet, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(terraform, ["fmt", "-"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["CHECKPOINT_DISABLE"] = "1";
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(snippet.AsMemory(), cancellationToken);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(output, error);
        return process.ExitCode == 0;
    }
}
