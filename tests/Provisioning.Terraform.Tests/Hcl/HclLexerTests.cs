using Provisioning.Sdk.Hcl;
using Provisioning.Terraform.Hcl;
using static Provisioning.Sdk.Hcl.HclTokenKind;

namespace Provisioning.Terraform.Tests.Hcl;

public sealed class HclLexerTests
{
    [Fact]
    public void Tokenize_IdentifierWithDashes_IsOneIdentifier()
    {
        var tokens = HclLexer.Tokenize("a-b_c-1 - d", "main.tf");

        Assert.Equal([Identifier, Minus, Identifier, EndOfFile], tokens.Select(token => token.Kind));
        Assert.Equal("a-b_c-1", tokens[0].Text("a-b_c-1 - d"));
    }

    [Theory]
    [InlineData("42")]
    [InlineData("3.14")]
    [InlineData("1e10")]
    [InlineData("1.5E-3")]
    [InlineData("2e+8")]
    public void Tokenize_Number_IsOneNumberToken(string number)
    {
        var tokens = HclLexer.Tokenize(number, "main.tf");

        Assert.Equal(Number, tokens[0].Kind);
        Assert.Equal(number, tokens[0].Text(number));
        Assert.Equal(EndOfFile, tokens[1].Kind);
    }

    [Fact]
    public void Tokenize_Comments_AreSkippedButLineCommentsKeepTheirNewline()
    {
        var kinds = HclSnippet.TokenKinds("a # one\n// two\nb /* three\nfour */ c");

        Assert.Equal([Identifier, Newline, Newline, Identifier, Identifier, EndOfFile], kinds);
    }

    [Fact]
    public void Tokenize_Operators_AreRecognised()
    {
        var kinds = HclSnippet.TokenKinds("== != <= >= < > && || ! + - * / % ? : :: => ... . = ,");

        Assert.Equal(
            [EqualEqual, NotEqual, LessEqual, GreaterEqual, Less, Greater, AndAnd, OrOr, Bang, Plus, Minus, Star, Slash, Percent,
             Question, Colon, DoubleColon, FatArrow, Ellipsis, Dot, HclTokenKind.Equals, Comma, EndOfFile],
            kinds);
    }

    [Fact]
    public void Tokenize_QuotedStringWithInterpolation_SwitchesModes()
    {
        var kinds = HclSnippet.TokenKinds("\"a ${b} c\"");

        Assert.Equal([OpenQuote, TemplateLiteral, TemplateInterpolation, Identifier, TemplateSequenceEnd, TemplateLiteral, CloseQuote, EndOfFile], kinds);
    }

    [Fact]
    public void Tokenize_InterpolationWithNestedBracesAndStrings_ClosesAtTheMatchingBrace()
    {
        var kinds = HclSnippet.TokenKinds("\"${ {a = \"}\"}[\"a\"] }\"");

        Assert.Equal(
            [OpenQuote, TemplateInterpolation, OpenBrace, Identifier, HclTokenKind.Equals, OpenQuote, TemplateLiteral, CloseQuote, CloseBrace,
             OpenBracket, OpenQuote, TemplateLiteral, CloseQuote, CloseBracket, TemplateSequenceEnd, CloseQuote, EndOfFile],
            kinds);
    }

    [Fact]
    public void Tokenize_EscapedTemplateSequences_StayLiteral()
    {
        var kinds = HclSnippet.TokenKinds("\"$${a} %%{b} \\\" \\\\\"");

        Assert.Equal([OpenQuote, TemplateLiteral, CloseQuote, EndOfFile], kinds);
    }

    [Fact]
    public void Tokenize_DirectiveWithStripMarkers_RecordsStrip()
    {
        var tokens = HclLexer.Tokenize("\"%{~ if a ~}x%{ endif }\"", "main.tf");

        Assert.Equal(TemplateControl, tokens[1].Kind);
        Assert.True(tokens[1].Strip);
        Assert.Equal(TemplateSequenceEnd, tokens[4].Kind);
        Assert.True(tokens[4].Strip);
    }

    [Fact]
    public void Tokenize_Heredoc_EmitsOneLiteralPerLineAndTheCloser()
    {
        var kinds = HclSnippet.TokenKinds("x = <<EOT\nline one\n  ${b} two\n  EOT\n");

        Assert.Equal(
            [Identifier, HclTokenKind.Equals, OpenHeredoc, TemplateLiteral, TemplateLiteral, TemplateInterpolation, Identifier, TemplateSequenceEnd,
             TemplateLiteral, CloseHeredoc, Newline, EndOfFile],
            kinds);
    }

    [Fact]
    public void Tokenize_HeredocMarkerInsideALine_DoesNotCloseIt()
    {
        var kinds = HclSnippet.TokenKinds("<<EOT\nnot EOT\nEOTX\nEOT");

        Assert.Equal([OpenHeredoc, TemplateLiteral, TemplateLiteral, CloseHeredoc, EndOfFile], kinds);
    }

    [Fact]
    public void Tokenize_TracksLinesAndColumns()
    {
        var tokens = HclLexer.Tokenize("a = 1\n  bb = \"x\"", "main.tf");

        var bb = tokens.Single(token => token.Kind == Identifier && token.Line == 2);
        Assert.Equal(3, bb.Column);
    }

    [Fact]
    public void Tokenize_UnterminatedString_ReportsTheOpeningQuote()
    {
        var error = Assert.Throws<HclSyntaxException>(() => HclLexer.Tokenize("a = 1\nb = \"abc\nc = 2", "main.tf"));

        Assert.Equal(2, error.Line);
        Assert.Equal(5, error.Column);
        Assert.Equal("main.tf:2,5: unterminated string literal; close it with a double quote", error.Message);
    }

    [Fact]
    public void Tokenize_UnterminatedInterpolation_ReportsTheSequence()
    {
        var error = Assert.Throws<HclSyntaxException>(() => HclLexer.Tokenize("a = \"${b\n", "main.tf"));

        Assert.Equal(1, error.Line);
        Assert.Equal(6, error.Column);
        Assert.Contains("unterminated template sequence", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_UnterminatedHeredoc_ReportsTheOpener()
    {
        var error = Assert.Throws<HclSyntaxException>(() => HclLexer.Tokenize("\n\na = <<EOT\nabc\n", "main.tf"));

        Assert.Equal(3, error.Line);
        Assert.Contains("end it with a line holding only EOT", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_UnterminatedBlockComment_ReportsItsStart()
    {
        var error = Assert.Throws<HclSyntaxException>(() => HclLexer.Tokenize("a = 1\n /* never\nclosed", "main.tf"));

        Assert.Equal((2, 2), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("a = 'x'", "strings use double quotes")]
    [InlineData("a = b & c", "\"&&\"")]
    [InlineData("a = ${b}", "only allowed inside a quoted string")]
    public void Tokenize_InvalidCharacter_SaysWhatToDo(string source, string hint)
    {
        var error = Assert.Throws<HclSyntaxException>(() => HclLexer.Tokenize(source, "main.tf"));

        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }
}
