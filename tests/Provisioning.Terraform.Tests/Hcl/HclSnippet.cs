using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;

namespace Provisioning.Terraform.Tests.Hcl;

/// <summary>Shortcuts for parsing snippets in memory.</summary>
internal static class HclSnippet
{
    public static HclFile Parse(string source) => HclParser.Parse(source, "main.tf");

    /// <summary>Parses <c>x = EXPRESSION</c> and returns the expression.</summary>
    public static HclExpression Expression(string expression) => Parse($"x = {expression}\n").Body.Attributes[0].Expression;

    /// <summary>Parses <c>x = EXPRESSION</c> and returns the expression rendered back as text.</summary>
    public static string Text(string expression)
    {
        var file = Parse($"x = {expression}\n");
        return file.TextOf(file.Body.Attributes[0].Expression);
    }

    /// <summary>The string value of a literal template expression.</summary>
    public static string? StringValue(string expression) => ((HclTemplateExpression)Expression(expression)).LiteralValue;

    public static HclSyntaxException ParseError(string source) => Assert.Throws<HclSyntaxException>(() => Parse(source));

    public static TerraformModuleContents Read(string source) => HclModuleFileReader.Read(source, "main.tf");

    public static string? DefaultJson(string defaultExpression) =>
        Read($"variable \"v\" {{\n  default = {defaultExpression}\n}}\n").Variables[0].ToDefinition().DefaultJson;

    public static List<HclTokenKind> TokenKinds(string source) =>
        HclLexer.Tokenize(source, "main.tf").Select(token => token.Kind).ToList();
}
