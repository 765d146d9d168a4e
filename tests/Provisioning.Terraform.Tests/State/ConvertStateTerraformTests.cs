using System.Diagnostics;
using System.Text.Json;
using Provisioning.Terraform.State;
using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.State;

/// <summary>
/// Feeds the converter what real Terraform prints (only the built-in terraform_data works offline), to
/// check that both graph styles of the installed Terraform and its state JSON are read alike.
/// </summary>
public sealed class ConvertStateTerraformTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("state-converter-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ConvertState_RealTerraformStateWithBothGraphStyles_ListsManagedResourcesWithModulePaths()
    {
        // Arrange
        var terraform = TerraformRequirement.Require();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        Directory.CreateDirectory(Path.Combine(_directory, "mod"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "main.tf"), """
            resource "terraform_data" "a" {}
            module "m" {
              source = "./mod"
              x      = terraform_data.a.id
            }
            resource "terraform_data" "b" {
              count = 2
              input = module.m.out
            }
            """, timeout.Token);
        await File.WriteAllTextAsync(Path.Combine(_directory, "mod", "main.tf"), """
            variable "x" {}
            resource "terraform_data" "inner" { input = var.x }
            output "out" { value = terraform_data.inner.id }
            """, timeout.Token);
        await RunAsync(terraform, ["init", "-input=false", "-no-color"], timeout.Token);
        await RunAsync(terraform, ["apply", "-auto-approve", "-input=false", "-no-color"], timeout.Token);
        using var state = JsonDocument.Parse(await RunAsync(terraform, ["show", "-json"], timeout.Token));
        var newerGraph = await RunAsync(terraform, ["graph"], timeout.Token);
        var olderGraph = await RunAsync(terraform, ["graph", "-type=plan"], timeout.Token);
        var converter = new StateConverter();

        // Act
        var fromNewer = converter.ConvertState(state.RootElement, newerGraph);
        var fromOlder = converter.ConvertState(state.RootElement, olderGraph);

        // Assert: in address order, so the module's resource first.
        string[] expected = ["terraform_data.inner@module.m", "terraform_data.a@", "terraform_data.b@", "terraform_data.b@"];
        Assert.Equal(expected, fromNewer.Resources.Select(resource => $"{resource.Type}.{resource.Name}@{resource.ModulePath}"));
        Assert.Equal(expected, fromOlder.Resources.Select(resource => $"{resource.Type}.{resource.Name}@{resource.ModulePath}"));
        Assert.NotNull(TerraformGraph.Parse(newerGraph).FindByAddress("module.m.terraform_data.inner"));
        Assert.NotNull(TerraformGraph.Parse(olderGraph).FindByAddress("module.m.terraform_data.inner"));
    }

    private async Task<string> RunAsync(string terraform, string[] arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(terraform)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["TF_IN_AUTOMATION"] = "1";
        startInfo.Environment["CHECKPOINT_DISABLE"] = "1";
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"terraform {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}");
        return await output;
    }
}
