using System.Globalization;
using System.Text;

namespace Provisioning.Sdk.Hcl;

/// <summary>
/// Recursive-descent parser for HCL native syntax. Newlines end attributes in bodies and separate
/// object items, but are insignificant inside parentheses, brackets and template sequences; a stack
/// says which applies where the parser stands.
/// </summary>
internal sealed class HclParser
{
    private readonly List<HclToken> _tokens;
    private readonly string _source;
    private readonly string _filePath;
    private readonly Stack<bool> _newlinesSignificant = new();
    private int _index;
    private int _lastEnd;
    private int _depth;

    /// <summary>
    /// Templates are user input and the parser recurses, so nesting is capped well below what would
    /// exhaust the stack (which would kill the process, not throw). Real files nest a dozen deep.
    /// </summary>
    internal const int MaxNesting = 100;

    private HclParser(List<HclToken> tokens, string source, string filePath)
    {
        _tokens = tokens;
        _source = source;
        _filePath = filePath;
    }

    /// <summary>Parses one file. <paramref name="filePath"/> is only used in error messages.</summary>
    public static HclFile Parse(string source, string filePath)
    {
        var normalised = source.Replace("\r\n", "\n", StringComparison.Ordinal);
        var tokens = HclLexer.Tokenize(normalised, filePath);
        var parser = new HclParser(tokens, normalised, filePath);
        var body = parser.ParseBody(opener: null, blockType: null);
        return new HclFile(filePath, normalised, tokens, body);
    }

    /// <summary>
    /// Parses one expression on its own (e.g. a workspace tag's stored text): newlines inside it are insignificant, and
    /// nothing may follow it. <paramref name="filePath"/> is only used in error messages.
    /// </summary>
    public static HclExpression ParseSingleExpression(string source, string filePath)
    {
        var normalised = source.Replace("\r\n", "\n", StringComparison.Ordinal);
        var parser = new HclParser(HclLexer.Tokenize(normalised, filePath), normalised, filePath);
        parser._newlinesSignificant.Push(false);
        var expression = parser.ParseExpression();
        var next = parser.Peek();
        return next.Kind == HclTokenKind.EndOfFile
            ? expression
            : throw parser.Error(next, $"expected the end of the expression, found {parser.Describe(next)}");
    }

    private bool NewlinesSignificant => _newlinesSignificant.Count == 0 || _newlinesSignificant.Peek();

    private HclToken Peek()
    {
        if (!NewlinesSignificant)
        {
            SkipNewlines();
        }

        return _tokens[_index];
    }

    /// <summary>The <paramref name="ahead"/>-th token after the current one, not counting newlines.</summary>
    private HclToken PeekPastNewlines(int ahead)
    {
        var index = _index;
        var seen = -1;
        while (true)
        {
            var token = _tokens[index];
            if (token.Kind != HclTokenKind.Newline && ++seen == ahead)
            {
                return token;
            }

            if (token.Kind == HclTokenKind.EndOfFile)
            {
                return token;
            }

            index++;
        }
    }

    private void SkipNewlines()
    {
        while (_tokens[_index].Kind == HclTokenKind.Newline)
        {
            _index++;
        }
    }

    private HclToken Next()
    {
        var token = Peek();
        if (token.Kind != HclTokenKind.EndOfFile)
        {
            _index++;
            _lastEnd = token.End;
        }

        return token;
    }

    private HclToken Expect(HclTokenKind kind, string what)
    {
        var token = Peek();
        if (token.Kind != kind)
        {
            throw Error(token, $"expected {what}, found {Describe(token)}");
        }

        return Next();
    }

    private bool IsKeyword(HclToken token, string keyword) =>
        token.Kind == HclTokenKind.Identifier
        && token.End - token.Start == keyword.Length
        && string.CompareOrdinal(_source, token.Start, keyword, 0, keyword.Length) == 0;

    private HclRange RangeFrom(HclToken first) => new(first.Start, _lastEnd, first.Line, first.Column);

    private HclSyntaxException Error(HclToken token, string detail) => new(_filePath, token.Line, token.Column, detail);

    private string Describe(HclToken token) => token.Kind switch
    {
        HclTokenKind.EndOfFile => "the end of the file",
        HclTokenKind.Newline => "a newline",
        HclTokenKind.OpenQuote => "a string",
        HclTokenKind.OpenHeredoc => "a heredoc",
        HclTokenKind.TemplateLiteral => "template text",
        HclTokenKind.TemplateSequenceEnd => "\"}\"",
        _ => $"\"{token.Text(_source)}\"",
    };

    private HclBody ParseBody(HclToken? opener, string? blockType)
    {
        var attributes = new List<HclAttribute>();
        var blocks = new List<HclBlock>();
        var seen = new Dictionary<string, HclAttribute>(StringComparer.Ordinal);
        _newlinesSignificant.Push(true);
        while (true)
        {
            var token = Peek();
            if (token.Kind == HclTokenKind.Newline)
            {
                Next();
                continue;
            }

            if (token.Kind == HclTokenKind.EndOfFile)
            {
                if (opener is { } open)
                {
                    throw Error(open, $"unterminated block \"{blockType}\"; add a \"}}\" to close the \"{{\" opened here");
                }

                break;
            }

            if (token.Kind == HclTokenKind.CloseBrace)
            {
                if (opener is not null)
                {
                    break;
                }

                throw Error(token, "unexpected \"}\": there is no open block to close here; remove it or check the braces above");
            }

            if (token.Kind != HclTokenKind.Identifier)
            {
                throw Error(token, $"expected an argument or block name, found {Describe(token)}");
            }

            var name = Next();
            var nameText = name.Text(_source);
            var after = Peek();
            if (after.Kind == HclTokenKind.Equals)
            {
                Next();
                var expression = ParseExpression();
                var attribute = new HclAttribute(nameText, expression, name.Line, name.Column);
                if (seen.TryGetValue(nameText, out var earlier))
                {
                    throw Error(name, $"argument \"{nameText}\" is set twice (first on line {earlier.Line}); each argument may be set only once");
                }

                seen.Add(nameText, attribute);
                attributes.Add(attribute);
                ExpectEndOfItem(insideBlock: opener is not null, $"the argument \"{nameText}\"");
            }
            else if (after.Kind is HclTokenKind.OpenBrace or HclTokenKind.OpenQuote or HclTokenKind.Identifier)
            {
                blocks.Add(ParseBlock(name, nameText));
                ExpectEndOfItem(insideBlock: opener is not null, $"the block \"{nameText}\"");
            }
            else
            {
                throw Error(after, $"missing \"=\" after the argument name \"{nameText}\" (found {Describe(after)}); write {nameText} = value, or open a block with {nameText} {{ ... }}");
            }
        }

        _newlinesSignificant.Pop();
        return new HclBody(attributes, blocks);
    }

    private HclBlock ParseBlock(HclToken name, string type)
    {
        var labels = new List<string>();
        while (true)
        {
            var token = Peek();
            if (token.Kind == HclTokenKind.Identifier)
            {
                labels.Add(Next().Text(_source));
            }
            else if (token.Kind == HclTokenKind.OpenQuote)
            {
                var label = (HclTemplateExpression)ParsePrimary();
                labels.Add(label.LiteralValue
                    ?? throw Error(token, $"block labels must be literal strings; remove the interpolation from this label of block \"{type}\""));
            }
            else
            {
                break;
            }
        }

        var opener = Peek();
        if (opener.Kind != HclTokenKind.OpenBrace)
        {
            throw Error(opener, $"expected \"{{\" to open the body of block \"{type}\", found {Describe(opener)}");
        }

        Next();
        Enter(opener);
        var body = ParseBody(opener, type);
        _depth--;
        Next(); // the "}" that ParseBody stopped at
        return new HclBlock(type, labels, body, name.Line, name.Column);
    }

    private void ExpectEndOfItem(bool insideBlock, string what)
    {
        var token = Peek();
        switch (token.Kind)
        {
            case HclTokenKind.Newline:
                Next();
                return;
            case HclTokenKind.EndOfFile:
                return;
            case HclTokenKind.CloseBrace when insideBlock:
                // A one-line block: "block { a = 1 }".
                return;
            default:
                throw Error(token, $"expected a newline after {what}, found {Describe(token)}; put each argument and block on its own line");
        }
    }

    internal HclExpression ParseExpression()
    {
        var first = Peek();
        Enter(first);
        var expression = ParseConditional(first);
        _depth--;
        return expression;
    }

    private void Enter(HclToken at)
    {
        if (++_depth > MaxNesting)
        {
            throw Error(at, $"nesting is too deep (more than {MaxNesting} levels of blocks, brackets, operators or templates); simplify this part of the file");
        }
    }

    private HclExpression ParseConditional(HclToken first)
    {
        var condition = ParseBinary(0);
        if (Peek().Kind != HclTokenKind.Question)
        {
            return condition;
        }

        Next();
        SkipNewlines();
        var trueResult = ParseExpression();
        Expect(HclTokenKind.Colon, "\":\" in the conditional expression (condition ? true_value : false_value)");
        SkipNewlines();
        var falseResult = ParseExpression();
        return new HclConditionalExpression(RangeFrom(first), condition, trueResult, falseResult);
    }

    private static readonly HclTokenKind[][] BinaryLevels =
    [
        [HclTokenKind.OrOr],
        [HclTokenKind.AndAnd],
        [HclTokenKind.EqualEqual, HclTokenKind.NotEqual],
        [HclTokenKind.Less, HclTokenKind.LessEqual, HclTokenKind.Greater, HclTokenKind.GreaterEqual],
        [HclTokenKind.Plus, HclTokenKind.Minus],
        [HclTokenKind.Star, HclTokenKind.Slash, HclTokenKind.Percent],
    ];

    private HclExpression ParseBinary(int level)
    {
        if (level == BinaryLevels.Length)
        {
            return ParseUnary();
        }

        var first = Peek();
        var left = ParseBinary(level + 1);
        while (Array.IndexOf(BinaryLevels[level], Peek().Kind) >= 0)
        {
            var operation = Next().Kind;
            SkipNewlines();
            var right = ParseBinary(level + 1);
            left = new HclBinaryExpression(RangeFrom(first), operation, left, right);
        }

        return left;
    }

    private HclExpression ParseUnary()
    {
        var token = Peek();
        if (token.Kind is HclTokenKind.Minus or HclTokenKind.Bang)
        {
            Next();
            Enter(token);
            var operand = ParseUnary();
            _depth--;
            return new HclUnaryExpression(RangeFrom(token), token.Kind, operand);
        }

        return ParsePostfix(ParsePrimary(), token);
    }

    private HclExpression ParsePostfix(HclExpression expression, HclToken first)
    {
        while (true)
        {
            var token = Peek();
            if (token.Kind == HclTokenKind.Dot)
            {
                Next();
                var member = Peek();
                switch (member.Kind)
                {
                    case HclTokenKind.Identifier:
                        Next();
                        expression = new HclGetAttributeExpression(RangeFrom(first), expression, member.Text(_source));
                        break;
                    case HclTokenKind.Number:
                        // Legacy index syntax: list.0
                        Next();
                        var key = new HclLiteralExpression(RangeFrom(member), HclLiteralKind.Number, member.Text(_source));
                        expression = new HclIndexExpression(RangeFrom(first), expression, key);
                        break;
                    case HclTokenKind.Star:
                        Next();
                        expression = new HclSplatExpression(RangeFrom(first), expression, IsFullSplat: false);
                        break;
                    default:
                        throw Error(member, $"expected an attribute name, an index or \"*\" after \".\", found {Describe(member)}");
                }
            }
            else if (token.Kind == HclTokenKind.OpenBracket)
            {
                Next();
                _newlinesSignificant.Push(false);
                if (Peek().Kind == HclTokenKind.Star && PeekPastNewlines(1).Kind == HclTokenKind.CloseBracket)
                {
                    Next();
                    Next();
                    expression = new HclSplatExpression(RangeFrom(first), expression, IsFullSplat: true);
                }
                else
                {
                    var key = ParseExpression();
                    Expect(HclTokenKind.CloseBracket, "\"]\" to close the index");
                    expression = new HclIndexExpression(RangeFrom(first), expression, key);
                }

                _newlinesSignificant.Pop();
            }
            else
            {
                return expression;
            }
        }
    }

    private HclExpression ParsePrimary()
    {
        var token = Peek();
        switch (token.Kind)
        {
            case HclTokenKind.Number:
                Next();
                return new HclLiteralExpression(RangeFrom(token), HclLiteralKind.Number, token.Text(_source));
            case HclTokenKind.Identifier:
                return ParseIdentifierExpression(token);
            case HclTokenKind.OpenQuote:
                return ParseQuotedTemplate();
            case HclTokenKind.OpenHeredoc:
                return ParseHeredoc();
            case HclTokenKind.OpenParen:
            {
                Next();
                _newlinesSignificant.Push(false);
                var inner = ParseExpression();
                Expect(HclTokenKind.CloseParen, "\")\" to close the parenthesis");
                _newlinesSignificant.Pop();
                return new HclParenthesesExpression(RangeFrom(token), inner);
            }

            case HclTokenKind.OpenBracket:
                return ParseTuple();
            case HclTokenKind.OpenBrace:
                return ParseObject();
            default:
                throw Error(token, $"expected an expression, found {Describe(token)}");
        }
    }

    private HclExpression ParseIdentifierExpression(HclToken token)
    {
        Next();
        var name = token.Text(_source);
        switch (name)
        {
            case "true":
                return new HclLiteralExpression(RangeFrom(token), HclLiteralKind.True, name);
            case "false":
                return new HclLiteralExpression(RangeFrom(token), HclLiteralKind.False, name);
            case "null":
                return new HclLiteralExpression(RangeFrom(token), HclLiteralKind.Null, name);
        }

        var next = Peek();
        if (next.Kind is not (HclTokenKind.OpenParen or HclTokenKind.DoubleColon))
        {
            return new HclVariableExpression(RangeFrom(token), name);
        }

        // Provider-defined functions are namespaced: provider::aws::arn_parse(...).
        var fullName = new StringBuilder(name);
        while (Peek().Kind == HclTokenKind.DoubleColon)
        {
            Next();
            fullName.Append("::").Append(Expect(HclTokenKind.Identifier, "a name after \"::\"").Text(_source));
        }

        Expect(HclTokenKind.OpenParen, $"\"(\" to call the function \"{fullName}\"");
        _newlinesSignificant.Push(false);
        var arguments = new List<HclExpression>();
        var expand = false;
        while (Peek().Kind != HclTokenKind.CloseParen)
        {
            arguments.Add(ParseExpression());
            if (Peek().Kind == HclTokenKind.Ellipsis)
            {
                Next();
                expand = true;
                if (Peek().Kind == HclTokenKind.Comma)
                {
                    Next();
                }

                break;
            }

            if (Peek().Kind != HclTokenKind.Comma)
            {
                break;
            }

            Next();
        }

        Expect(HclTokenKind.CloseParen, expand
            ? $"\")\" after the expanded final argument of \"{fullName}\"; \"...\" is only allowed on the last argument"
            : $"\",\" or \")\" in the arguments of \"{fullName}\"");
        _newlinesSignificant.Pop();
        return new HclFunctionCallExpression(RangeFrom(token), fullName.ToString(), arguments, expand);
    }

    private HclExpression ParseTuple()
    {
        var open = Next();
        _newlinesSignificant.Push(false);
        if (IsKeyword(Peek(), "for") && PeekPastNewlines(1).Kind == HclTokenKind.Identifier)
        {
            var forExpression = ParseForBody(open, isObject: false);
            _newlinesSignificant.Pop();
            return forExpression;
        }

        var items = new List<HclExpression>();
        while (Peek().Kind != HclTokenKind.CloseBracket)
        {
            items.Add(ParseExpression());
            if (Peek().Kind != HclTokenKind.Comma)
            {
                break;
            }

            Next();
        }

        Expect(HclTokenKind.CloseBracket, "\",\" or \"]\" in the tuple");
        _newlinesSignificant.Pop();
        return new HclTupleExpression(RangeFrom(open), items);
    }

    private HclExpression ParseObject()
    {
        var open = Next();
        if (IsKeyword(PeekPastNewlines(0), "for") && PeekPastNewlines(1).Kind == HclTokenKind.Identifier)
        {
            _newlinesSignificant.Push(false);
            var forExpression = ParseForBody(open, isObject: true);
            _newlinesSignificant.Pop();
            return forExpression;
        }

        _newlinesSignificant.Push(true);
        var items = new List<HclObjectItem>();
        while (true)
        {
            SkipNewlines();
            var token = Peek();
            if (token.Kind == HclTokenKind.CloseBrace)
            {
                break;
            }

            if (token.Kind == HclTokenKind.EndOfFile)
            {
                throw Error(open, "unterminated object; add a \"}\" to close the \"{\" opened here");
            }

            var key = ParseExpression();
            var separator = Peek();
            if (separator.Kind is not (HclTokenKind.Equals or HclTokenKind.Colon))
            {
                throw Error(separator, $"missing \"=\" after the object key (found {Describe(separator)}); write key = value");
            }

            Next();
            SkipNewlines();
            var value = ParseExpression();
            items.Add(new HclObjectItem(key, value));

            var after = Peek();
            if (after.Kind is HclTokenKind.Comma or HclTokenKind.Newline)
            {
                Next();
            }
            else if (after.Kind != HclTokenKind.CloseBrace)
            {
                throw Error(after, $"expected a newline, \",\" or \"}}\" after an object item, found {Describe(after)}");
            }
        }

        Next();
        _newlinesSignificant.Pop();
        return new HclObjectExpression(RangeFrom(open), items);
    }

    private HclForExpression ParseForBody(HclToken open, bool isObject)
    {
        Next(); // "for"
        var first = Expect(HclTokenKind.Identifier, "a variable name after \"for\"").Text(_source);
        string? keyVariable = null;
        var valueVariable = first;
        if (Peek().Kind == HclTokenKind.Comma)
        {
            Next();
            keyVariable = first;
            valueVariable = Expect(HclTokenKind.Identifier, "a second variable name after \",\"").Text(_source);
        }

        var inKeyword = Peek();
        if (!IsKeyword(inKeyword, "in"))
        {
            throw Error(inKeyword, $"expected \"in\" in the for expression, found {Describe(inKeyword)}");
        }

        Next();
        var collection = ParseExpression();
        Expect(HclTokenKind.Colon, "\":\" after the collection of the for expression");

        HclExpression? keyResult = null;
        if (isObject)
        {
            keyResult = ParseExpression();
            Expect(HclTokenKind.FatArrow, "\"=>\" between key and value in the for expression");
        }

        var valueResult = ParseExpression();
        var grouping = false;
        if (isObject && Peek().Kind == HclTokenKind.Ellipsis)
        {
            Next();
            grouping = true;
        }

        HclExpression? condition = null;
        if (IsKeyword(Peek(), "if"))
        {
            Next();
            condition = ParseExpression();
        }

        if (isObject)
        {
            Expect(HclTokenKind.CloseBrace, "\"}\" to close the for expression");
        }
        else
        {
            Expect(HclTokenKind.CloseBracket, "\"]\" to close the for expression");
        }

        return new HclForExpression(RangeFrom(open), keyVariable, valueVariable, collection, keyResult, valueResult, grouping, condition);
    }

    private HclTemplateExpression ParseQuotedTemplate()
    {
        var open = Next();
        var parts = ParseTemplateParts(open, HclTokenKind.CloseQuote, DecodeQuotedLiteral);
        return new HclTemplateExpression(RangeFrom(open), parts, IsHeredoc: false);
    }

    private HclTemplateExpression ParseHeredoc()
    {
        var open = Next();
        var parts = ParseTemplateParts(open, HclTokenKind.CloseHeredoc, literal => UnescapeTemplateSequences(literal.Text(_source)));
        if (_source[open.Start + 2] == '-')
        {
            parts = StripHeredocIndentation(parts);
        }

        return new HclTemplateExpression(RangeFrom(open), parts, IsHeredoc: true);
    }

    /// <summary>
    /// For <c>&lt;&lt;-</c>: removes the smallest indentation found at the start of any line from
    /// every line. A line that starts with an interpolation counts as unindented; blank lines do not count.
    /// </summary>
    private static List<HclTemplatePart> StripHeredocIndentation(List<HclTemplatePart> parts)
    {
        var lineStarts = new List<int>();
        var atLineStart = true;
        var minimum = int.MaxValue;
        for (var i = 0; i < parts.Count; i++)
        {
            if (atLineStart)
            {
                if (parts[i] is HclTemplateLiteralPart literal)
                {
                    lineStarts.Add(i);
                    var indentation = literal.Value.Length - literal.Value.TrimStart(' ', '\t').Length;
                    // A blank line does not count; leading blanks before an interpolation do.
                    var blank = literal.Value.Trim(' ', '\t') is "" or "\n" && (literal.Value.EndsWith('\n') || i == parts.Count - 1);
                    if (!blank)
                    {
                        minimum = Math.Min(minimum, indentation);
                    }
                }
                else
                {
                    minimum = 0;
                }
            }

            atLineStart = parts[i] is HclTemplateLiteralPart { Value: var value } && value.EndsWith('\n');
        }

        if (minimum is 0 or int.MaxValue)
        {
            return parts;
        }

        var stripped = new List<HclTemplatePart>(parts);
        foreach (var index in lineStarts)
        {
            var value = ((HclTemplateLiteralPart)parts[index]).Value;
            var remove = Math.Min(minimum, value.Length - value.TrimStart(' ', '\t').Length);
            stripped[index] = new HclTemplateLiteralPart(value[remove..]);
        }

        return stripped;
    }

    private List<HclTemplatePart> ParseTemplateParts(HclToken open, HclTokenKind closer, Func<HclToken, string> decodeLiteral)
    {
        var parts = new List<HclTemplatePart>();
        var openDirectives = new Stack<(string Keyword, HclToken Token, bool SawElse)>();
        while (true)
        {
            var token = Next();
            if (token.Kind == closer)
            {
                break;
            }

            switch (token.Kind)
            {
                case HclTokenKind.TemplateLiteral:
                    parts.Add(new HclTemplateLiteralPart(decodeLiteral(token)));
                    break;
                case HclTokenKind.TemplateInterpolation:
                {
                    _newlinesSignificant.Push(false);
                    var expression = ParseExpression();
                    Expect(HclTokenKind.TemplateSequenceEnd, "\"}\" to close the interpolation");
                    _newlinesSignificant.Pop();
                    parts.Add(new HclTemplateInterpolationPart(expression, RangeFrom(token)));
                    break;
                }

                case HclTokenKind.TemplateControl:
                    _newlinesSignificant.Push(false);
                    parts.Add(ParseDirective(token, openDirectives));
                    _newlinesSignificant.Pop();
                    break;
                default:
                    throw Error(token, $"unexpected {Describe(token)} in a template; the string opened at line {open.Line} is not closed properly");
            }
        }

        if (openDirectives.TryPop(out var unclosed))
        {
            var end = unclosed.Keyword == "if" ? "endif" : "endfor";
            throw Error(unclosed.Token, $"the template directive %{{ {unclosed.Keyword} }} is never closed; add %{{ {end} }}");
        }

        return parts;
    }

    private HclTemplateDirectivePart ParseDirective(HclToken open, Stack<(string Keyword, HclToken Token, bool SawElse)> openDirectives)
    {
        var keywordToken = Expect(HclTokenKind.Identifier, "a template directive keyword (if, else, endif, for, endfor)");
        var keyword = keywordToken.Text(_source);
        HclExpression? expression = null;
        switch (keyword)
        {
            case "if":
                expression = ParseExpression();
                openDirectives.Push((keyword, open, false));
                break;
            case "else":
                if (!openDirectives.TryPop(out var ifDirective) || ifDirective.Keyword != "if" || ifDirective.SawElse)
                {
                    throw Error(keywordToken, "%{ else } without a matching %{ if }");
                }

                openDirectives.Push(ifDirective with { SawElse = true });
                break;
            case "endif":
            case "endfor":
                var opener = keyword == "endif" ? "if" : "for";
                if (!openDirectives.TryPop(out var begun) || begun.Keyword != opener)
                {
                    throw Error(keywordToken, $"%{{ {keyword} }} without a matching %{{ {opener} }}");
                }

                break;
            case "for":
                Expect(HclTokenKind.Identifier, "a variable name after \"for\"");
                if (Peek().Kind == HclTokenKind.Comma)
                {
                    Next();
                    Expect(HclTokenKind.Identifier, "a second variable name after \",\"");
                }

                if (!IsKeyword(Peek(), "in"))
                {
                    throw Error(Peek(), $"expected \"in\" in the template for directive, found {Describe(Peek())}");
                }

                Next();
                expression = ParseExpression();
                openDirectives.Push((keyword, open, false));
                break;
            default:
                throw Error(keywordToken, $"unknown template directive \"{keyword}\"; expected if, else, endif, for or endfor");
        }

        Expect(HclTokenKind.TemplateSequenceEnd, $"\"}}\" to close the %{{ {keyword} }} directive");
        return new HclTemplateDirectivePart(keyword, expression, RangeFrom(open));
    }

    private static string UnescapeTemplateSequences(string text) =>
        text.Replace("$${", "${", StringComparison.Ordinal).Replace("%%{", "%{", StringComparison.Ordinal);

    private string DecodeQuotedLiteral(HclToken token)
    {
        var text = token.Text(_source);
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if ((c is '$' or '%') && i + 2 < text.Length && text[i + 1] == c && text[i + 2] == '{')
            {
                result.Append(c).Append('{');
                i += 2;
                continue;
            }

            if (c != '\\')
            {
                result.Append(c);
                continue;
            }

            var escape = text[++i];
            switch (escape)
            {
                case 'n': result.Append('\n'); break;
                case 'r': result.Append('\r'); break;
                case 't': result.Append('\t'); break;
                case '"': result.Append('"'); break;
                case '\\': result.Append('\\'); break;
                case 'u' or 'U':
                {
                    var length = escape == 'u' ? 4 : 8;
                    var digits = i + length < text.Length ? text.Substring(i + 1, length) : "";
                    if (!int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var codePoint)
                        || digits.Length != length || codePoint > 0x10FFFF || codePoint is >= 0xD800 and <= 0xDFFF)
                    {
                        throw new HclSyntaxException(_filePath, token.Line, token.Column + i - 1,
                            $"invalid escape sequence: \\{escape} must be followed by {length} hexadecimal digits of a Unicode code point");
                    }

                    result.Append(char.ConvertFromUtf32(codePoint));
                    i += length;
                    break;
                }

                default:
                    throw new HclSyntaxException(_filePath, token.Line, token.Column + i - 1,
                        $"invalid escape sequence \"\\{escape}\"; the valid ones are \\n, \\r, \\t, \\\", \\\\, \\uNNNN and \\UNNNNNNNN (write \\\\ for a backslash)");
            }
        }

        return result.ToString();
    }
}
