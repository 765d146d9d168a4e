using System.Formats.Tar;
using System.Text;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Workspaces;

namespace Provisioning.Coordinator.Tests.Workspaces;

/// <summary>
/// The tags an import is routed by, as Coder computes them at push: workspace tags evaluated with the variables' values
/// (given, else default) and the parameters' defaults, under the pushed tags (which win, and are not evaluated).
/// </summary>
public sealed class ImportTagsTests
{
    private const string Template = """
        variable "pool_suffix" {
          type    = string
          default = "a"
        }

        variable "zone" {
          type = string
        }

        variable "sizes" {
          type    = list(string)
          default = ["s", "m"]
        }

        data "coder_parameter" "region" {
          name    = "region"
          default = "eu"
        }

        data "coder_parameter" "cpus" {
          name    = "cpus"
          type    = "number"
          default = 2
        }

        data "coder_parameter" "project" {
          name = "project"
        }

        data "coder_workspace_tags" "routing" {
          tags = {
            "region" = data.coder_parameter.region.value
            pool     = "${data.coder_parameter.region.value == "eu" ? "europe" : "world"}-${var.pool_suffix}"
            "big"    = data.coder_parameter.cpus.value > 4
          }
        }
        """;

    private static readonly Dictionary<string, string> None = [];

    private static SortedDictionary<string, string> Resolve(string mainTf, IReadOnlyDictionary<string, string>? pushed = null, IReadOnlyDictionary<string, string>? variables = null, params ModuleFile[] more) =>
        ImportTags.Resolve([new ModuleFile("main.tf", mainTf), .. more], pushed ?? None, variables ?? None);

    private static string Refused(string mainTf, IReadOnlyDictionary<string, string>? pushed = null)
    {
        var exception = Assert.Throws<ApiProblemException>(() => Resolve(mainTf, pushed));
        Assert.Equal(400, exception.Status);
        return exception.Message;
    }

    [Fact]
    public void Resolve_WorkspaceTags_AreEvaluatedWithTheDefaults_UnderThePushedTags()
    {
        var tags = Resolve(Template, new Dictionary<string, string> { ["test"] = "x" });

        Assert.Equal(["big=false", "pool=europe-a", "region=eu", "test=x"], tags.Select(tag => $"{tag.Key}={tag.Value}"));
    }

    [Fact]
    public void Resolve_AVariableGivenWithThePush_WinsOverItsDefault() =>
        Assert.Equal("europe-b", Resolve(Template, variables: new Dictionary<string, string> { ["pool_suffix"] = "b" })["pool"]);

    [Fact]
    public void Resolve_APushedTag_WinsAndIsNotEvaluated()
    {
        // "zone" has no value at push: refused when evaluated, fine when the push gives the tag.
        var template = Template.Replace("\"big\"    = data.coder_parameter.cpus.value > 4", "\"zone\" = var.zone", StringComparison.Ordinal);

        var tags = Resolve(template, new Dictionary<string, string> { ["region"] = "us", ["zone"] = "z1" });

        Assert.Equal("us", tags["region"]);
        Assert.Equal("z1", tags["zone"]);
        Assert.Equal("europe-a", tags["pool"]); // Still the parameter's default: only the pushed key changes, as in Coder.
    }

    [Fact]
    public void Resolve_AParameterWithoutDefault_IsRefusedNamingTheTagAndTheFix()
    {
        var message = Refused(Template.Replace("\"big\"    = data.coder_parameter.cpus.value > 4", "\"owner\" = data.coder_parameter.project.value", StringComparison.Ordinal));

        Assert.Contains("Workspace tag \"owner\" = data.coder_parameter.project.value cannot be evaluated when the template is pushed", message, StringComparison.Ordinal);
        Assert.Contains("data.coder_parameter.project has no default", message, StringComparison.Ordinal);
        Assert.Contains("--provisioner-tag owner=VALUE", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AVariableWithoutValue_IsRefused() =>
        Assert.Contains("var.zone has no default and no value was given with the push",
            Refused(Template.Replace("\"big\"    = data.coder_parameter.cpus.value > 4", "\"zone\" = var.zone", StringComparison.Ordinal)), StringComparison.Ordinal);

    [Fact]
    public void Resolve_AListVariable_IsRefusedAsNotATagValue() =>
        Assert.Contains("the default of var.sizes is not a string, number or bool",
            Refused(Template.Replace("\"big\"    = data.coder_parameter.cpus.value > 4", "\"sizes\" = var.sizes", StringComparison.Ordinal)), StringComparison.Ordinal);

    [Fact]
    public void Resolve_AResourceReference_IsRefusedAsAtBuildTime() =>
        Assert.Contains("a tag may use only literal values",
            Refused(Template.Replace("\"big\"    = data.coder_parameter.cpus.value > 4", "\"name\" = null_resource.test.name", StringComparison.Ordinal)), StringComparison.Ordinal);

    [Fact]
    public void Resolve_AParameterDefaultFromAVariable_IsEvaluated() =>
        Assert.Equal("us", Resolve(
            Template.Replace("default = \"eu\"", "default = var.home", StringComparison.Ordinal) + "\nvariable \"home\" {\n  default = \"us\"\n}\n")["region"]);

    [Fact]
    public void Resolve_AnOverrideFile_ChangesTheDefaultItSets() =>
        Assert.Equal("ap", Resolve(Template, more: [new ModuleFile("region_override.tf", "data \"coder_parameter\" \"region\" {\n  default = \"ap\"\n}\n")])["region"]);

    [Fact]
    public void Resolve_AModuleItCannotParse_IsLeftToTheImport_RoutedByThePushedTags() =>
        Assert.Equal(["test=x"], Resolve(Template + "\nresource \"x\" {", new Dictionary<string, string> { ["test"] = "x" }).Select(tag => $"{tag.Key}={tag.Value}"));

    [Fact]
    public void Resolve_NoWorkspaceTags_GivesThePushedTags() =>
        Assert.Empty(Resolve("resource \"terraform_data\" \"box\" {}\n"));

    [Fact]
    public async Task ReadRootModuleAsync_ReadsOnlyTheRootTerraformFiles()
    {
        using var archive = new MemoryStream();
        await using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, text) in new[] { ("main.tf", "a"), ("./vars.tf", "b"), ("modules/m/main.tf", "c"), ("README.md", "d"), ("data.tf.json", "{}") })
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                await writer.WriteEntryAsync(entry, TestContext.Current.CancellationToken);
            }
        }

        archive.Position = 0;
        var files = await ImportTags.ReadRootModuleAsync(archive, TestContext.Current.CancellationToken);

        Assert.Equal(["data.tf.json", "main.tf", "vars.tf"], files.Select(file => file.Name));
        Assert.Equal("b", files.Single(file => file.Name == "vars.tf").Source);
    }
}
