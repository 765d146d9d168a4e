using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;

namespace Provisioning.Terraform.Tests.Hcl;

public sealed class HclParserTests
{
    [Fact]
    public void Parse_BlocksWithZeroToManyLabels_KeepsTypeAndLabels()
    {
        var file = HclSnippet.Parse("""
            terraform {
            }
            locals {}
            variable "a" {}
            resource "null_resource" "b" {}
            thing one "two" three {}
            """);

        Assert.Equal(["terraform", "locals", "variable", "resource", "thing"], file.Body.Blocks.Select(block => block.Type));
        Assert.Empty(file.Body.Blocks[0].Labels);
        Assert.Equal(["a"], file.Body.Blocks[2].Labels);
        Assert.Equal(["null_resource", "b"], file.Body.Blocks[3].Labels);
        Assert.Equal(["one", "two", "three"], file.Body.Blocks[4].Labels);
        Assert.Equal(5, file.Body.Blocks[3].Line);
    }

    [Fact]
    public void Parse_OneLineBlock_HoldsItsAttribute()
    {
        var file = HclSnippet.Parse("block { a = 1 }\nother \"x\" { b = \"}\" }\n");

        Assert.Equal("a", file.Body.Blocks[0].Body.Attributes[0].Name);
        Assert.Equal("}", ((HclTemplateExpression)file.Body.Blocks[1].Body.Attributes[0].Expression).LiteralValue);
    }

    [Fact]
    public void Parse_NestedBlocksAndAttributes_AreKeptApart()
    {
        var file = HclSnippet.Parse("""
            resource "coder_agent" "dev" {
              os = "linux"
              metadata {
                key = "a"
                nested {
                  deep = true
                }
              }
              env = { A = "1" }
            }
            """);

        var body = file.Body.Blocks[0].Body;
        Assert.Equal(["os", "env"], body.Attributes.Select(attribute => attribute.Name));
        Assert.Equal("nested", body.Blocks[0].Body.Blocks[0].Type);
    }

    [Fact]
    public void Parse_CommentsInOddPlaces_AreIgnored()
    {
        var file = HclSnippet.Parse("""
            /* before */ variable /* between */ "a" /* labels */ { # after brace
              type = /* inline */ string // trailing
              default = [ # in a tuple
                1, // one
                /* two */ 2,
              ]
              # last
            } // after block
            /* at the end */
            """);

        var body = file.Body.Blocks[0].Body;
        Assert.Equal("string", file.TextOf(body.Attribute("type")!.Expression));
        Assert.Equal(2, ((HclTupleExpression)body.Attribute("default")!.Expression).Items.Count);
    }

    [Fact]
    public void Parse_CrLfLineEndings_AreAccepted()
    {
        var file = HclSnippet.Parse("variable \"a\" {\r\n  default = \"x\"\r\n}\r\n");

        Assert.Equal("x", ((HclTemplateExpression)file.Body.Blocks[0].Body.Attributes[0].Expression).LiteralValue);
    }

    [Theory]
    [InlineData("\"a\\nb\"", "a\nb")]
    [InlineData("\"q\\\"q\"", "q\"q")]
    [InlineData("\"back\\\\slash\"", "back\\slash")]
    [InlineData("\"tab\\tcr\\r\"", "tab\tcr\r")]
    [InlineData("\"\\u00e9\\U0001F600\"", "é😀")]
    [InlineData("\"$${literal} %%{too}\"", "${literal} %{too}")]
    [InlineData("\"just $ and % and {}\"", "just $ and % and {}")]
    [InlineData("\"\"", "")]
    public void Parse_StringEscapes_AreDecoded(string literal, string expected)
    {
        Assert.Equal(expected, HclSnippet.StringValue(literal));
    }

    [Fact]
    public void Parse_InvalidEscape_NamesTheSequence()
    {
        var error = HclSnippet.ParseError("a = \"x\\qy\"\n");

        Assert.Equal((1, 7), (error.Line, error.Column));
        Assert.Contains("\\q", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Interpolation_KeepsTheExpression()
    {
        var template = (HclTemplateExpression)HclSnippet.Expression("\"hello ${var.name}!\"");

        Assert.Null(template.LiteralValue);
        Assert.Collection(
            template.Parts,
            part => Assert.Equal("hello ", ((HclTemplateLiteralPart)part).Value),
            part => Assert.IsType<HclGetAttributeExpression>(((HclTemplateInterpolationPart)part).Expression),
            part => Assert.Equal("!", ((HclTemplateLiteralPart)part).Value));
    }

    [Fact]
    public void Parse_InterpolationWithNestedBracesStringsAndNewlines_Parses()
    {
        var template = (HclTemplateExpression)HclSnippet.Expression("""
            "${join(",", [for k, v in { a = "}", b = "${x}" } :
                "${k}=${v}"])}"
            """);

        var call = (HclFunctionCallExpression)((HclTemplateInterpolationPart)template.Parts[0]).Expression;
        Assert.Equal("join", call.Name);
        Assert.IsType<HclForExpression>(call.Arguments[1]);
    }

    [Fact]
    public void Parse_TemplateDirectives_AreBalanced()
    {
        var template = (HclTemplateExpression)HclSnippet.Expression(
            "\"%{ if a }yes%{ else }no%{ endif } %{~ for i, x in xs ~}${x}%{ endfor }\"");

        var keywords = template.Parts.OfType<HclTemplateDirectivePart>().Select(part => part.Keyword);
        Assert.Equal(["if", "else", "endif", "for", "endfor"], keywords);
    }

    [Theory]
    [InlineData("a = \"%{ if x }y\"\n", "add %{ endif }")]
    [InlineData("a = \"%{ endfor }\"\n", "without a matching %{ for }")]
    [InlineData("a = \"%{ else }\"\n", "without a matching %{ if }")]
    [InlineData("a = \"%{ while x }\"\n", "unknown template directive")]
    public void Parse_UnbalancedDirectives_AreErrors(string source, string expected)
    {
        var error = HclSnippet.ParseError(source);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Parse_Heredoc_KeepsTextAndFinalNewline()
    {
        Assert.Equal("line one\n  line two\n", HclSnippet.StringValue("<<EOT\nline one\n  line two\nEOT"));
    }

    [Fact]
    public void Parse_IndentedHeredoc_RemovesTheCommonIndentation()
    {
        var source = "x = <<-EOT\n    first\n      second\n\n    third\n    EOT\n";

        var value = ((HclTemplateExpression)HclSnippet.Parse(source).Body.Attributes[0].Expression).LiteralValue;

        Assert.Equal("first\n  second\n\nthird\n", value);
    }

    [Fact]
    public void Parse_IndentedHeredocWithSequences_CountsBlanksBeforeASequenceAsIndentation()
    {
        // Terraform 1.11 renders this as "  a\n    b\n\nc\n  d\n": the directive line sets the indentation.
        var source = "x = <<-EOT\n      ${\"a\"}\n        b\n\n    %{ if true }c%{ endif }\n      d\n    EOT\n";

        var template = (HclTemplateExpression)HclSnippet.Parse(source).Body.Attributes[0].Expression;

        var shape = string.Concat(template.Parts.Select(part => part switch
        {
            HclTemplateLiteralPart literal => literal.Value,
            HclTemplateInterpolationPart => "<i>",
            _ => "<d>",
        }));
        Assert.Equal("  <i>\n    b\n\n<d>c<d>\n  d\n", shape);
    }

    [Fact]
    public void Parse_HeredocWithInterpolationAndEscapes_KeepsBackslashesLiteral()
    {
        var template = (HclTemplateExpression)HclSnippet.Expression("<<EOT\na\\n $${b} ${c}\nEOT");

        Assert.Equal("a\\n ${b} ", ((HclTemplateLiteralPart)template.Parts[0]).Value);
        Assert.IsType<HclVariableExpression>(((HclTemplateInterpolationPart)template.Parts[1]).Expression);
    }

    [Fact]
    public void Parse_HeredocFollowedByMoreAttributes_ContinuesAfterTheMarker()
    {
        var file = HclSnippet.Parse("resource \"x\" \"y\" {\n  script = <<-EOF\n    echo hi\n  EOF\n  after = 1\n}\n");

        Assert.Equal(["script", "after"], file.Body.Blocks[0].Body.Attributes.Select(attribute => attribute.Name));
    }

    [Fact]
    public void Parse_TuplesAndObjects_AcceptCommasNewlinesAndColons()
    {
        var tuple = (HclTupleExpression)HclSnippet.Expression("[\n  1,\n  2\n  ,3,\n]");
        var obj = (HclObjectExpression)HclSnippet.Expression("{\n  a = 1\n  \"b\" : 2, c = 3,\n  d = 4 }");

        Assert.Equal(3, tuple.Items.Count);
        Assert.Equal(4, obj.Items.Count);
        Assert.IsType<HclTemplateExpression>(obj.Items[1].Key);
    }

    [Fact]
    public void Parse_EmptyTupleAndObject_HaveNoItems()
    {
        Assert.Empty(((HclTupleExpression)HclSnippet.Expression("[]")).Items);
        Assert.Empty(((HclObjectExpression)HclSnippet.Expression("{\n}")).Items);
    }

    [Fact]
    public void Parse_ObjectItemsWithoutSeparator_IsAnError()
    {
        var error = HclSnippet.ParseError("x = { a = 1 b = 2 }\n");

        Assert.Contains("after an object item", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FunctionCalls_WithExpansionAndProviderNamespaces()
    {
        var call = (HclFunctionCallExpression)HclSnippet.Expression("concat(\n  var.a,\n  [\"b\"],\n)");
        var expanded = (HclFunctionCallExpression)HclSnippet.Expression("max(var.numbers...)");
        var provider = (HclFunctionCallExpression)HclSnippet.Expression("provider::assert::valid(x)");

        Assert.Equal(2, call.Arguments.Count);
        Assert.True(expanded.ExpandFinalArgument);
        Assert.Equal("provider::assert::valid", provider.Name);
    }

    [Fact]
    public void Parse_ExpansionNotLast_IsAnError()
    {
        var error = HclSnippet.ParseError("x = f(a..., b)\n");

        Assert.Contains("\"...\" is only allowed on the last argument", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Traversals_IndexAttributeAndSplats()
    {
        var index = (HclIndexExpression)HclSnippet.Expression("data.x.y[0]");
        var legacy = (HclGetAttributeExpression)HclSnippet.Expression("aws_instance.a.0.id");
        var attributeSplat = (HclGetAttributeExpression)HclSnippet.Expression("aws_instance.a.*.id");
        var fullSplat = (HclGetAttributeExpression)HclSnippet.Expression("aws_instance.a[*].id");

        Assert.IsType<HclGetAttributeExpression>(index.Collection);
        Assert.IsType<HclIndexExpression>(legacy.Source);
        Assert.False(((HclSplatExpression)attributeSplat.Source).IsFullSplat);
        Assert.True(((HclSplatExpression)fullSplat.Source).IsFullSplat);
    }

    [Fact]
    public void Parse_BinaryOperators_FollowPrecedence()
    {
        var expression = (HclBinaryExpression)HclSnippet.Expression("a || b && c == d + e * f");

        Assert.Equal(HclTokenKind.OrOr, expression.Operator);
        var and = (HclBinaryExpression)expression.Right;
        Assert.Equal(HclTokenKind.AndAnd, and.Operator);
        var equal = (HclBinaryExpression)and.Right;
        var plus = (HclBinaryExpression)equal.Right;
        Assert.Equal(HclTokenKind.Plus, plus.Operator);
        Assert.Equal(HclTokenKind.Star, ((HclBinaryExpression)plus.Right).Operator);
    }

    [Fact]
    public void Parse_SubtractionIsLeftAssociative()
    {
        var expression = (HclBinaryExpression)HclSnippet.Expression("a - b - c");

        Assert.IsType<HclBinaryExpression>(expression.Left);
        Assert.IsType<HclVariableExpression>(expression.Right);
    }

    [Fact]
    public void Parse_UnaryAndParentheses()
    {
        var expression = (HclUnaryExpression)HclSnippet.Expression("!(a > -1)");

        var inner = (HclBinaryExpression)((HclParenthesesExpression)expression.Operand).Inner;
        Assert.Equal(HclTokenKind.Greater, inner.Operator);
        Assert.Equal(HclTokenKind.Minus, ((HclUnaryExpression)inner.Right).Operator);
    }

    [Fact]
    public void Parse_NestedConditionals()
    {
        var expression = (HclConditionalExpression)HclSnippet.Expression("a ? b : c ? d : e");

        Assert.IsType<HclConditionalExpression>(expression.FalseResult);
    }

    [Fact]
    public void Parse_ForExpressions_InTuplesAndObjects()
    {
        var tuple = (HclForExpression)HclSnippet.Expression("[for s in var.list : upper(s) if s != \"\"]");
        var obj = (HclForExpression)HclSnippet.Expression("{\n  for k, v in var.map :\n    k => v...\n    if v != null\n}");

        Assert.Null(tuple.KeyVariable);
        Assert.Equal("s", tuple.ValueVariable);
        Assert.NotNull(tuple.Condition);
        Assert.Equal("k", obj.KeyVariable);
        Assert.True(obj.IsGrouping);
        Assert.NotNull(obj.KeyResult);
        Assert.NotNull(obj.Condition);
    }

    [Fact]
    public void Parse_ObjectWithKeyNamedFor_IsAnObject()
    {
        var obj = (HclObjectExpression)HclSnippet.Expression("{ for = 1 }");

        Assert.Equal("for", ((HclVariableExpression)obj.Items[0].Key).Name);
    }

    [Fact]
    public void Parse_NewlinesInsideParenthesesAndBrackets_AreInsignificant()
    {
        var file = HclSnippet.Parse("a = (\n  1\n  +\n  2\n)\nb = [\n  x\n  [0]\n]\nc = 3\n");

        Assert.Equal(["a", "b", "c"], file.Body.Attributes.Select(attribute => attribute.Name));
        Assert.IsType<HclIndexExpression>(((HclTupleExpression)file.Body.Attributes[1].Expression).Items[0]);
    }

    [Fact]
    public void Parse_NewlineEndsAnAttribute()
    {
        // "[0]" on its own line is not an index of b: the newline ended "a = b", and "[" cannot start an item.
        var error = HclSnippet.ParseError("a = b\n[0]\n");

        Assert.Equal((2, 1), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("(", ")")]
    [InlineData("{ a = ", "}")]
    [InlineData("\"${", "}\"")]
    [InlineData("-", "")]
    public void Parse_HostileNesting_IsAnErrorNotACrash(string open, string close)
    {
        var depth = 100_000;
        var source = "x = " + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)) + "\n";

        var error = HclSnippet.ParseError(source);

        Assert.Contains("nesting is too deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DeeplyNestedBlocks_IsAnErrorNotACrash()
    {
        var source = string.Concat(Enumerable.Repeat("b {\n", 100_000)) + string.Concat(Enumerable.Repeat("}\n", 100_000));

        var error = HclSnippet.ParseError(source);

        Assert.Contains("nesting is too deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingUpToTheLimit_Parses()
    {
        var depth = HclParser.MaxNesting - 2;
        var source = "x = " + new string('[', depth) + "1" + new string(']', depth) + "\n";

        Assert.Single(HclSnippet.Parse(source).Body.Attributes);
    }

    [Fact]
    public void TextOf_CollapsesWhitespaceAndDropsComments()
    {
        Assert.Equal("object({ a = number, b = optional(list(string), []) })",
            HclSnippet.Text("object({\n    a = number, # the count\n    b = optional(list(string), [])\n  })"));
        Assert.Equal("\"a  b\"", HclSnippet.Text("\"a  b\""));
        Assert.Equal("data.coder_parameter.region.value", HclSnippet.Text("data.coder_parameter.region.value"));
        Assert.Equal("\"${ var.a }-x\"", HclSnippet.Text("\"${ var.a }-x\""));
    }

    [Fact]
    public void TextOf_HeredocIsKeptVerbatim()
    {
        Assert.Equal("<<EOT\n  a   b\nEOT", HclSnippet.Text("<<EOT\n  a   b\nEOT"));
    }

    [Fact]
    public void Parse_UnterminatedBlock_ReportsTheBlockOpening()
    {
        var error = HclSnippet.ParseError("variable \"a\" {\n  type = string\n\nresource \"b\" \"c\" {\n}\n");

        Assert.Equal("main.tf", error.FilePath);
        Assert.Equal((1, 14), (error.Line, error.Column));
        Assert.Contains("unterminated block \"variable\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingEquals_NamesTheArgument()
    {
        var error = HclSnippet.ParseError("resource \"a\" \"b\" {\n  count 3\n}\n");

        Assert.Equal((2, 9), (error.Line, error.Column));
        Assert.StartsWith("main.tf:2,9: missing \"=\" after the argument name \"count\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TwoAttributesOnOneLine_IsAnError()
    {
        var error = HclSnippet.ParseError("a = 1 b = 2\n");

        Assert.Contains("expected a newline after the argument \"a\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateArgument_IsAnError()
    {
        var error = HclSnippet.ParseError("variable \"a\" {\n  type = string\n  type = number\n}\n");

        Assert.Equal(3, error.Line);
        Assert.Contains("set twice (first on line 2)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_StrayClosingBrace_IsAnError()
    {
        var error = HclSnippet.ParseError("a = 1\n}\n");

        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Parse_InterpolatedBlockLabel_IsAnError()
    {
        var error = HclSnippet.ParseError("resource \"${a}\" \"b\" {}\n");

        Assert.Contains("block labels must be literal strings", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a = \n", "expected an expression")]
    [InlineData("a = [1, 2\n", "\"]\"")]
    [InlineData("a = f(1\nb = 2\n", "\",\" or \")\"")]
    [InlineData("a = x ? y\n", "\":\" in the conditional")]
    [InlineData("a = [for x in y]\n", "\":\" after the collection")]
    [InlineData("a = {for k, v in y : k}\n", "\"=>\"")]
    [InlineData("a = x.\n", "after \".\"")]
    [InlineData("a = {\n  b = 1\n", "unterminated object")]
    public void Parse_MalformedExpressions_AreErrorsWithALocation(string source, string expected)
    {
        var error = HclSnippet.ParseError(source);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("main.tf:", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Line, 1, 3);
    }
}
