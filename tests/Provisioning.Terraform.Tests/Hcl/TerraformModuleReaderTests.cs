using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;

namespace Provisioning.Terraform.Tests.Hcl;

public sealed class TerraformModuleReaderTests
{
    private static TerraformModuleDefinition Read(params (string Name, string Content)[] files)
    {
        using var module = TemporaryModule.With(files);
        return new TerraformModuleReader().ReadDirectory(module.Directory, TestContext.Current.CancellationToken);
    }

    private static HclSyntaxException ReadError(params (string Name, string Content)[] files)
    {
        using var module = TemporaryModule.With(files);
        return Assert.Throws<HclSyntaxException>(() => new TerraformModuleReader().ReadDirectory(module.Directory, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void ReadDirectory_Variables_ExtractsEveryField()
    {
        var module = Read(("main.tf", """
            variable "region" {
              type        = string
              description = "Where the workspace runs"
              default     = "eu-west-1"
              sensitive   = false
            }

            variable "token" {
              type      = string
              sensitive = true
              nullable  = false
              validation {
                condition     = length(var.token) > 8
                error_message = "The token must be longer than ${8} characters."
              }
            }

            variable "untyped" {}

            variable "nothing" {
              default = null
            }
            """));

        Assert.Equal(
            [
                new VariableDefinition("region", "string", "Where the workspace runs", "\"eu-west-1\"", false, true, false, "main.tf", 1),
                new VariableDefinition("token", "string", "", null, true, false, true, "main.tf", 8),
                new VariableDefinition("untyped", null, "", null, false, true, true, "main.tf", 18),
                new VariableDefinition("nothing", null, "", "null", false, true, false, "main.tf", 20),
            ],
            module.Variables);
        Assert.Empty(module.WorkspaceTags);
    }

    [Theory]
    [InlineData("string", "string")]
    [InlineData("list(string)", "list(string)")]
    [InlineData("map( number )", "map( number )")]
    [InlineData("object({\n    a = number\n    b = optional(string, \"x\")\n  })", "object({ a = number b = optional(string, \"x\") })")]
    [InlineData("tuple([string, number])", "tuple([string, number])")]
    [InlineData("set(map(bool))", "set(map(bool))")]
    [InlineData("object({ a-b = optional(number, 3), nested = object({}), })", "object({ a-b = optional(number, 3), nested = object({}), })")]
    [InlineData("map(string...)", "map(string...)")]
    [InlineData("list", "list")]
    [InlineData("list(object({ a = optional(string) }))", "list(object({ a = optional(string) }))")]
    [InlineData("any", "any")]
    public void ReadDirectory_VariableType_IsTheExpressionText(string type, string expected)
    {
        var module = Read(("main.tf", $"variable \"v\" {{\n  type = {type}\n}}\n"));

        Assert.Equal(expected, module.Variables[0].Type);
    }

    [Theory]
    [InlineData("\"string\"", "is quoted; Terraform takes type constraints without quotes, so write string")]
    [InlineData("strin", "is not a type constraint")]
    [InlineData("list(string, number)", "is not a type constraint")]
    [InlineData("map(strin)", "is not a type constraint")]
    [InlineData("object({ a = optional(strin) })", "is not a type constraint")]
    [InlineData("object({ (a) = string })", "must be a bare name")]
    [InlineData("object({ \"quoted\" = string })", "must be a bare name")]
    [InlineData("object({ a = optional(string, \"x\", 3) })", "is not a type constraint")]
    [InlineData("optional(string)", "only allowed for an attribute of an object type")]
    [InlineData("list(optional(string))", "only allowed for an attribute of an object type")]
    [InlineData("tuple(string)", "is not a type constraint")]
    [InlineData("set", "is not a type constraint")]
    [InlineData("String", "is not a type constraint")]
    [InlineData("(string)", "is not a type constraint")]
    public void ReadDirectory_InvalidType_IsAnError(string type, string expected)
    {
        var error = ReadError(("main.tf", $"variable \"v\" {{\n  type = {type}\n}}\n"));

        Assert.Equal(2, error.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadDirectory_DefaultNotMatchingType_NamesThePlace()
    {
        var hcl = ReadError(("main.tf", "variable \"v\" {\n  type    = object({ ports = list(number) })\n  default = { ports = [80, \"http\"] }\n}\n"));
        var json = ReadError(("main.tf.json", "{ \"variable\": { \"v\": {\n  \"type\": \"map(bool)\",\n  \"default\": { \"a\": \"yes\" }\n} } }"));

        Assert.Equal(("main.tf:3,13: the default of variable \"v\" does not match its type object({ ports = list(number) }): a number is required at .ports[1]"), hcl.Message);
        Assert.Equal(("main.tf.json:3,3: the default of variable \"v\" does not match its type map(bool): a bool is required at [\"a\"]"), json.Message);
    }

    [Fact]
    public void ReadDirectory_NullDefaultWhenNotNullable_IsAnError()
    {
        var error = ReadError(("main.tf", "variable \"v\" {\n  nullable = false\n  default  = null\n}\n"));

        Assert.Equal((3, 14), (error.Line, error.Column));
        Assert.Contains("nullable = false", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"text\"", "\"text\"")]
    [InlineData("\"quote \\\" and \\\\ and \\n and \\u00e9\"", "\"quote \\\" and \\\\ and \\n and é\"")]
    [InlineData("42", "42")]
    [InlineData("-2", "-2")]
    [InlineData("3.50", "3.5")]
    [InlineData("1e3", "1000")]
    [InlineData("-1.25e-2", "-0.0125")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    [InlineData("null", "null")]
    [InlineData("[]", "[]")]
    [InlineData("[1, \"two\", true, null]", "[1,\"two\",true,null]")]
    [InlineData("{}", "{}")]
    [InlineData("{ a = 1, \"b-c\" = \"d\" }", "{\"a\":1,\"b-c\":\"d\"}")]
    [InlineData("{\n  list = [{ x = [1, 2] }]\n  obj  = { inner = { deep = false } }\n}", "{\"list\":[{\"x\":[1,2]}],\"obj\":{\"inner\":{\"deep\":false}}}")]
    [InlineData("{ a = 1, a = 2 }", "{\"a\":2}")]
    [InlineData("\"$${not_interpolated}\"", "\"${not_interpolated}\"")]
    [InlineData("(5)", "5")]
    public void ReadDirectory_Default_IsConvertedToJson(string value, string expectedJson)
    {
        Assert.Equal(expectedJson, HclSnippet.DefaultJson(value));
    }

    [Fact]
    public void ReadDirectory_HeredocDefaults_AreStrings()
    {
        var module = Read(("main.tf", "variable \"script\" {\n  default = <<-EOT\n    #!/bin/sh\n    echo \"hi\"\n  EOT\n}\nvariable \"raw\" {\n  default = <<EOT\n  kept\nEOT\n}\n"));

        Assert.Equal("\"#!/bin/sh\\necho \\\"hi\\\"\\n\"", module.Variables[0].DefaultJson);
        Assert.Equal("\"  kept\\n\"", module.Variables[1].DefaultJson);
    }

    [Fact]
    public void ReadDirectory_HeredocDescription_IsTheText()
    {
        var module = Read(("main.tf", "variable \"kube\" {\n  type        = bool\n  description = <<-EOF\n  Use host kubeconfig?\n\n  A valid \"~/.kube/config\" must be present.\n  EOF\n}\n"));

        Assert.Equal("Use host kubeconfig?\n\nA valid \"~/.kube/config\" must be present.\n", module.Variables[0].Description);
    }

    [Fact]
    public void ReadDirectory_InterpolationInDefault_NamesFileAndLine()
    {
        var error = ReadError(("vars.tf", "variable \"a\" {\n  type    = string\n  default = \"prefix-${var.b}\"\n}\n"));

        Assert.Equal(("vars.tf", 3, 21), (error.FilePath, error.Line, error.Column));
        Assert.Equal("vars.tf:3,21: the default of variable \"a\" contains an interpolation (${ ... }), but only a literal string is read here, without evaluating anything; write the text itself (write $${ for a literal \"${\")", error.Message);
    }

    [Theory]
    [InlineData("var.other")]
    [InlineData("upper(\"x\")")]
    [InlineData("1 + 2")]
    [InlineData("[for x in [1] : x]")]
    [InlineData("{ (var.k) = 1 }")]
    [InlineData("[\"%{ if true }x%{ endif }\"]")]
    [InlineData("true ? 1 : 2")]
    public void ReadDirectory_NonLiteralDefault_IsAnError(string value)
    {
        var error = ReadError(("main.tf", $"variable \"a\" {{\n  default = {value}\n}}\n"));

        Assert.Equal(2, error.Line);
        Assert.Contains("variable \"a\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadDirectory_ConvertibleDescriptionAndFlags_AreConvertedLikeTerraform()
    {
        var module = Read(
            ("a.tf", "variable \"a\" {\n  description = 1.50\n  sensitive   = \"1\"\n  nullable    = \"false\"\n}\n"),
            ("b.tf.json", """{ "variable": { "b": { "description": true, "sensitive": "true", "nullable": "0" } } }"""));

        Assert.Equal(("1.5", true, false), (module.Variables[0].Description, module.Variables[0].Sensitive, module.Variables[0].Nullable));
        Assert.Equal(("true", true, false), (module.Variables[1].Description, module.Variables[1].Sensitive, module.Variables[1].Nullable));
    }

    [Fact]
    public void ReadDirectory_NonLiteralDescriptionOrFlag_IsAnError()
    {
        Assert.Contains("must be a literal string", ReadError(("main.tf", "variable \"a\" {\n  description = var.x\n}\n")).Message, StringComparison.Ordinal);
        Assert.Contains("must be true or false", ReadError(("main.tf", "variable \"a\" {\n  sensitive = \"yes\"\n}\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadDirectory_VariableWithoutName_IsAnError()
    {
        var error = ReadError(("main.tf", "variable {\n}\n"));

        Assert.Contains("exactly one label", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("count", "reserved")]
    [InlineData("source", "reserved")]
    [InlineData("locals", "reserved")]
    [InlineData("1abc", "must start with a letter or underscore")]
    [InlineData("a b", "must start with a letter or underscore")]
    [InlineData("", "must start with a letter or underscore")]
    public void ReadDirectory_VariableNameTerraformRefuses_IsAnError(string name, string expected)
    {
        var hcl = ReadError(("main.tf", $"\nvariable \"{name}\" {{}}\n"));
        var json = ReadError(("main.tf.json", $"{{\n  \"variable\": {{\n    \"{name}\": {{}}\n  }}\n}}\n"));

        Assert.Equal(("main.tf", 2), (hcl.FilePath, hcl.Line));
        Assert.Equal(("main.tf.json", 3), (json.FilePath, json.Line));
        Assert.Contains(expected, hcl.Message, StringComparison.Ordinal);
        Assert.Contains(expected, json.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a-b")]
    [InlineData("_x")]
    [InlineData("é")]
    public void ReadDirectory_VariableNamesTerraformAccepts_AreRead(string name)
    {
        Assert.Equal(name, Assert.Single(Read(("main.tf", $"variable \"{name}\" {{}}\n")).Variables).Name);
    }

    [Fact]
    public void ReadDirectory_DuplicateVariable_NamesBothLocations()
    {
        var error = ReadError(
            ("a.tf", "variable \"region\" {}\n"),
            ("b.tf", "\n\nvariable \"region\" {\n  default = \"x\"\n}\n"));

        Assert.Equal(("b.tf", 3), (error.FilePath, error.Line));
        Assert.Contains("duplicate variable \"region\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("a.tf:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadDirectory_FilesInOrdinalOrder_AndOnlyTheRootDirectory()
    {
        var module = Read(
            ("b.tf", "variable \"from_b\" {}\n"),
            ("B.tf", "variable \"from_upper_b\" {}\n"),
            ("a.tf.json", """{ "variable": { "from_a_json": {} } }"""),
            ("modules/child/main.tf", "variable \"from_child\" {}\n"),
            ("notes.txt", "variable \"from_txt\" {}\n"),
            (".hidden.tf", "variable \"from_hidden\" {}\n"),
            ("backup.tf~", "variable \"from_backup\" {}\n"));

        Assert.Equal(["from_upper_b", "from_a_json", "from_b"], module.Variables.Select(variable => variable.Name));
    }

    [Fact]
    public void ReadDirectory_OverrideFile_ChangesOnlyWhatItSets()
    {
        var module = Read(
            ("main.tf", "variable \"a\" {\n  type        = string\n  description = \"base\"\n}\n"),
            ("main_override.tf", "variable \"a\" {\n  default = \"over\"\n}\n"));

        var variable = Assert.Single(module.Variables);
        Assert.Equal(("string", "base", "\"over\"", false), (variable.Type, variable.Description, variable.DefaultJson, variable.Required));
        Assert.Equal("main.tf", variable.FilePath);
    }

    [Fact]
    public void ReadDirectory_OverrideOfUnknownVariable_IsAnError()
    {
        var error = ReadError(("main.tf", ""), ("override.tf", "variable \"ghost\" {}\n"));

        Assert.Equal("override.tf", error.FilePath);
    }

    [Fact]
    public void ReadDirectory_WorkspaceTags_KeepExpressionText()
    {
        var module = Read(("main.tf", """
            data "coder_parameter" "region" {
              name = "region"
            }

            data "coder_workspace_tags" "custom" {
              tags = {
                "cluster" = "us-east-1"
                region    = data.coder_parameter.region.value
                "az"      = "${data.coder_parameter.region.value}-a"
                count     = 2, flag = true
                complex   = lookup({
                  a = "b"
                }, "a", "c")
              }
            }
            """));

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["cluster"] = "\"us-east-1\"",
                ["region"] = "data.coder_parameter.region.value",
                ["az"] = "\"${data.coder_parameter.region.value}-a\"",
                ["count"] = "2",
                ["flag"] = "true",
                ["complex"] = "lookup({ a = \"b\" }, \"a\", \"c\")",
            },
            module.WorkspaceTags);
    }

    [Fact]
    public void ReadDirectory_SeveralTagBlocks_Merge()
    {
        var module = Read(
            ("a.tf", "data \"coder_workspace_tags\" \"one\" {\n  tags = { a = \"1\" }\n}\n"),
            ("b.tf", "data \"coder_workspace_tags\" \"two\" {\n  tags = {\n    b = \"2\"\n  }\n}\ndata \"other\" \"x\" {\n  tags = { a = 3 }\n}\n"));

        Assert.Equal(new Dictionary<string, string> { ["a"] = "\"1\"", ["b"] = "\"2\"" }, module.WorkspaceTags);
    }

    [Fact]
    public void ReadDirectory_DuplicateTagKey_IsAnError()
    {
        var error = ReadError(
            ("a.tf", "data \"coder_workspace_tags\" \"one\" {\n  tags = { zone = \"1\" }\n}\n"),
            ("b.tf", "data \"coder_workspace_tags\" \"two\" {\n  tags = {\n    \"zone\" = \"2\"\n  }\n}\n"));

        Assert.Equal(("b.tf", 3, 5), (error.FilePath, error.Line, error.Column));
        Assert.Contains("duplicate workspace tag \"zone\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("a.tf:2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"${local.k}\" = \"a\"", "contains an interpolation")]
    [InlineData("(local.k) = \"a\"", "must be a name or a literal string")]
    public void ReadDirectory_ComputedTagKey_IsAnError(string item, string expected)
    {
        var error = ReadError(("main.tf", $"data \"coder_workspace_tags\" \"t\" {{\n  tags = {{\n    {item}\n  }}\n}}\n"));

        Assert.Equal(3, error.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadDirectory_TagsNotAnObject_IsAnError()
    {
        var error = ReadError(("main.tf", "data \"coder_workspace_tags\" \"t\" {\n  tags = local.tags\n}\n"));

        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void ReadDirectory_EverythingElse_IsParsedAndSkipped()
    {
        var module = Read(("main.tf", """
            terraform {
              required_version = ">= 1.0"
              required_providers {
                coder = {
                  source  = "coder/coder"
                  version = ">= 2.0.0"
                }
              }
            }

            provider "coder" {}

            locals {
              names   = [for i in range(3) : "agent-${i}"]
              by_name = { for n in local.names : n => upper(n) }
              first   = try(local.names[0], null)
              all_ids = coder_agent.main[*].id
              legacy  = coder_agent.main.*.token
              script  = <<-EOT
                #!/bin/bash
                %{ for n in local.names ~}
                echo "${n}" # not a comment
                %{ endfor ~}
              EOT
              ok = !false && (1 + 2 * 3 >= 7) ? "yes" : "no"
            }

            resource "coder_agent" "main" {
              count = data.coder_workspace.me.start_count
              arch  = "amd64"
              os    = "linux"
              env   = { GIT_AUTHOR_NAME = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name) }
              metadata {
                display_name = "CPU"
                key          = "cpu"
                script       = "top -bn1 | awk '$1 == \"%Cpu(s):\" {print $2}'"
                interval     = 10
              }
              dynamic "display_apps" {
                for_each = var.apps
                content { vscode = display_apps.value }
              }
            }

            module "code-server" {
              source   = "registry.coder.com/modules/code-server/coder"
              version  = "1.0.2"
              agent_id = coder_agent.main[0].id
            }

            output "ids" {
              value     = [for a in coder_agent.main : a.id]
              sensitive = true
            }
            """));

        Assert.Empty(module.Variables);
        Assert.Empty(module.WorkspaceTags);
    }

    [Fact]
    public void ReadDirectory_SyntaxErrorInAnyFile_NamesThatFile()
    {
        var error = ReadError(
            ("a.tf", "variable \"ok\" {}\n"),
            ("b.tf", "resource \"x\" \"y\" {\n  name = \"unterminated\n}\n"));

        Assert.Equal("b.tf:2,10: unterminated string literal; close it with a double quote", error.Message);
    }

    [Fact]
    public void ReadDirectory_MissingDirectory_Throws()
    {
        var missing = Path.Combine(Path.GetTempPath(), "hcl-tests-missing-" + Guid.NewGuid().ToString("N"));

        Assert.Throws<DirectoryNotFoundException>(() => new TerraformModuleReader().ReadDirectory(missing, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void ReadDirectory_CanceledToken_Throws()
    {
        using var module = TemporaryModule.With(("main.tf", "variable \"a\" {}\n"));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.Throws<OperationCanceledException>(() => new TerraformModuleReader().ReadDirectory(module.Directory, cancellation.Token));
    }

    [Fact]
    public void ReadDirectory_EmptyDirectory_HasNothing()
    {
        var module = Read();

        Assert.Empty(module.Variables);
        Assert.Empty(module.WorkspaceTags);
    }
}
