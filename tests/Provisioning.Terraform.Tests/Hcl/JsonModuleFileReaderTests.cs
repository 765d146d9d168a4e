using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;

namespace Provisioning.Terraform.Tests.Hcl;

public sealed class JsonModuleFileReaderTests
{
    private static TerraformModuleDefinition Read(string json)
    {
        using var module = TemporaryModule.With(("main.tf.json", json));
        return new TerraformModuleReader().ReadDirectory(module.Directory, TestContext.Current.CancellationToken);
    }

    private static HclSyntaxException ReadError(string json)
    {
        using var module = TemporaryModule.With(("main.tf.json", json));
        return Assert.Throws<HclSyntaxException>(() => new TerraformModuleReader().ReadDirectory(module.Directory, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Read_Variables_ExtractsEveryFieldWithLines()
    {
        var module = Read("""
            {
              "//": "a comment property",
              "variable": {
                "region": {
                  "type": "string",
                  "description": "Where",
                  "default": "eu"
                },
                "settings": {
                  "type": "object({ a = number })",
                  "default": { "a": 1, "nested": [true, null, 2.5, "x"] },
                  "sensitive": true,
                  "nullable": false
                },
                "required": {}
              }
            }
            """);

        Assert.Equal(
            [
                new VariableDefinition("region", "string", "Where", "\"eu\"", false, true, false, "main.tf.json", 4),
                new VariableDefinition("settings", "object({ a = number })", "", "{\"a\":1,\"nested\":[true,null,2.5,\"x\"]}", true, false, false, "main.tf.json", 9),
                new VariableDefinition("required", null, "", null, false, true, true, "main.tf.json", 15),
            ],
            module.Variables);
    }

    [Fact]
    public void Read_DefaultNull_IsOptional()
    {
        var variable = Assert.Single(Read("""{ "variable": { "a": { "default": null } } }""").Variables);

        Assert.Equal(("null", false), (variable.DefaultJson, variable.Required));
    }

    [Fact]
    public void Read_BlocksAsArrays_AreAccepted()
    {
        var module = Read("""{ "variable": [ { "a": {} }, { "b": [ { "default": 1 } ] } ] }""");

        Assert.Equal(["a", "b"], module.Variables.Select(variable => variable.Name));
        Assert.Equal("1", module.Variables[1].DefaultJson);
    }

    [Fact]
    public void Read_WorkspaceTags_RenderLikeHcl()
    {
        var module = Read("""
            {
              "data": {
                "coder_parameter": { "region": { "name": "region" } },
                "coder_workspace_tags": {
                  "custom": {
                    "tags": {
                      "cluster": "us-east-1",
                      "region": "${data.coder_parameter.region.value}",
                      "az": "${data.coder_parameter.region.value}-a",
                      "quoted": "say \"hi\"",
                      "nested": "${lookup({ a = \"}\" }, \"a\")}",
                      "count": 2
                    }
                  }
                }
              }
            }
            """);

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["cluster"] = "\"us-east-1\"",
                ["region"] = "data.coder_parameter.region.value",
                ["az"] = "\"${data.coder_parameter.region.value}-a\"",
                ["quoted"] = "\"say \\\"hi\\\"\"",
                ["nested"] = "lookup({ a = \"}\" }, \"a\")",
                ["count"] = "2",
            },
            module.WorkspaceTags);
    }

    [Fact]
    public void Read_JsonAndHclTagsTogether_DuplicateKeyIsAnError()
    {
        using var module = TemporaryModule.With(
            ("a.tf", "data \"coder_workspace_tags\" \"hcl\" {\n  tags = { zone = \"a\" }\n}\n"),
            ("b.tf.json", "{\n  \"data\": { \"coder_workspace_tags\": { \"json\": { \"tags\": {\n    \"zone\": \"b\"\n  } } } }\n}\n"));

        var error = Assert.Throws<HclSyntaxException>(() => new TerraformModuleReader().ReadDirectory(module.Directory, TestContext.Current.CancellationToken));

        Assert.Equal(("b.tf.json", 3), (error.FilePath, error.Line));
    }

    [Fact]
    public void Read_MalformedJson_NamesFileAndLine()
    {
        var error = ReadError("{\n  \"variable\": {\n    \"a\": { \"default\": 1, }\n  }\n}\n");

        Assert.Equal("main.tf.json", error.FilePath);
        Assert.Equal(3, error.Line);
        Assert.StartsWith("main.tf.json:3,", error.Message, StringComparison.Ordinal);
        Assert.Contains("invalid JSON", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "top level")]
    [InlineData("{ \"variable\": { \"a\": { \"type\": 5 } } }", "must be a string holding a type expression")]
    [InlineData("{ \"variable\": { \"a\": { \"sensitive\": \"yes\" } } }", "must be true or false")]
    [InlineData("{ \"variable\": \"a\" }", "must be a JSON object")]
    public void Read_WrongShapes_AreErrors(string json, string expected)
    {
        var error = ReadError(json);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Read_InvalidTypeExpression_PointsAtTheTypeProperty()
    {
        var quoted = ReadError("{\n  \"variable\": {\n    \"a\": {\n      \"type\": \"\\\"string\\\"\"\n    }\n  }\n}\n");
        var garbage = ReadError("{ \"variable\": { \"a\": { \"type\": \"list(string\" } } }");
        var injected = ReadError("{ \"variable\": { \"a\": { \"type\": \"string\\nb = 1\" } } }");

        Assert.Equal((4, 7), (quoted.Line, quoted.Column));
        Assert.Contains("is quoted", quoted.Message, StringComparison.Ordinal);
        Assert.StartsWith("main.tf.json:1,", garbage.Message, StringComparison.Ordinal);
        Assert.Contains("single type expression", injected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NullDefaultWhenNotNullable_IsAnError()
    {
        var error = ReadError("{ \"variable\": { \"a\": { \"nullable\": false, \"default\": null } } }");

        Assert.Contains("nullable = false", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WrongShapeOnALaterLine_PointsThere()
    {
        var error = ReadError("{\n  \"variable\": {\n    \"a\": {\n      \"nullable\": 1\n    }\n  }\n}\n");

        Assert.Equal((4, 7), (error.Line, error.Column));
    }
}
