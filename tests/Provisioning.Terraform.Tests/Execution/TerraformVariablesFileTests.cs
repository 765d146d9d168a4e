using System.Text.Json;

using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.Execution;

namespace Provisioning.Terraform.Tests.Execution;

public sealed class TerraformVariablesFileTests
{
    [Fact]
    public void Write_Values_StringsStayStringsAndJsonCollectionsStayJson()
    {
        var directory = Directory.CreateTempSubdirectory("provisioning-tfvars-").FullName;
        try
        {
            var path = TerraformVariablesFile.Write(directory,
            [
                new VariableValue { Name = "region", Value = "eu" },
                new VariableValue { Name = "count", Value = "3" },
                new VariableValue { Name = "zones", Value = """["a","b"]""" },
                new VariableValue { Name = "odd", Value = "[not json" },
                new VariableValue { Name = "password", Value = "p\"w", Sensitive = true },
            ]);

            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            Assert.Equal("eu", root.GetProperty("region").GetString());
            Assert.Equal("3", root.GetProperty("count").GetString());
            Assert.Equal(["a", "b"], root.GetProperty("zones").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("[not json", root.GetProperty("odd").GetString());
            Assert.Equal("p\"w", root.GetProperty("password").GetString());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
