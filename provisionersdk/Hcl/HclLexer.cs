namespace Provisioning.Sdk.Hcl;

/// <summary>
/// Turns HCL native syntax into tokens. Templates (quoted strings and heredocs) make the lexer
/// modal: inside a template it scans literal text until an interpolation <c>${</c> or directive
/// <c>%{</c>, then scans ordinary tokens again until the matching <c>}</c>. A stack of frames
/// tracks which mode each open brace belongs to, so nested braces and strings inside
/// interpolations work at any depth.
/// </summary>
internal sealed class HclLexer
{
    private readonly string _source;
    private readonly string _filePath;
    private readonly List<HclToken> _tokens = [];
    private readonly Stack<Frame> _frames = new();
    private int _position;
    private int _line = 1;
    private int _column = 1;

    private HclLexer(string source, string filePath)
    {
        _source = source;
        _filePath = filePath;
    }

    private enum FrameKind
    {
        Brace,
        Interpolation,
        QuotedTemplate,
        HeredocTemplate,
    }

    /// <summary>Line endings must already be normalised to "\n".</summary>
    public static List<HclToken> Tokenize(string source, string filePath)
    {
        var lexer = new HclLexer(source, filePath);
        lexer.Run();
        return lexer._tokens;
    }

    private char Current => _position < _source.Length ? _source[_position] : '\0';

    private bool AtEnd => _position >= _source.Length;

    private char PeekAt(int offset) => _position + offset < _source.Length ? _source[_position + offset] : '\0';

    private void Run()
    {
        while (true)
        {
            if (_frames.TryPeek(out var frame) && frame.Kind == FrameKind.QuotedTemplate)
            {
                LexQuotedTemplate(frame);
            }
            else if (frame is { Kind: FrameKind.HeredocTemplate })
            {
                LexHeredocTemplate(frame);
            }
            else if (!LexNormal())
            {
                return;
            }
        }
    }

    private void Advance(int count = 1)
    {
        for (var i = 0; i < count && _position < _source.Length; i++)
        {
            if (_source[_position] == '\n')
            {
                _line++;
                _column = 1;
            }
            else
            {
                _column++;
            }

            _position++;
        }
    }

    private void Emit(HclTokenKind kind, int start, int line, int column, bool strip = false) =>
        _tokens.Add(new HclToken(kind, start, _position, line, column, strip));

    /// <summary>Consumes <paramref name="length"/> characters as one token.</summary>
    private void EmitAdvance(HclTokenKind kind, int length)
    {
        var (start, line, column) = (_position, _line, _column);
        Advance(length);
        Emit(kind, start, line, column);
    }

    private HclSyntaxException Error(int line, int column, string detail) => new(_filePath, line, column, detail);

    private bool LexNormal()
    {
        SkipWhitespaceAndComments();
        if (AtEnd)
        {
            foreach (var open in _frames)
            {
                if (open.Kind == FrameKind.Interpolation)
                {
                    throw Error(open.Line, open.Column, "unterminated template sequence; close the \"${\" or \"%{\" opened here with \"}\"");
                }
            }

            Emit(HclTokenKind.EndOfFile, _position, _line, _column);
            return false;
        }

        var c = Current;
        switch (c)
        {
            case '\n':
                EmitAdvance(HclTokenKind.Newline, 1);
                return true;
            case '"':
                _frames.Push(new Frame(FrameKind.QuotedTemplate, _line, _column));
                EmitAdvance(HclTokenKind.OpenQuote, 1);
                return true;
            case '{':
                _frames.Push(new Frame(FrameKind.Brace, _line, _column));
                EmitAdvance(HclTokenKind.OpenBrace, 1);
                return true;
            case '}':
                LexCloseBrace(strip: false);
                return true;
            case '~' when PeekAt(1) == '}' && _frames.TryPeek(out var top) && top.Kind == FrameKind.Interpolation:
                LexCloseBrace(strip: true);
                return true;
            case '[':
                EmitAdvance(HclTokenKind.OpenBracket, 1);
                return true;
            case ']':
                EmitAdvance(HclTokenKind.CloseBracket, 1);
                return true;
            case '(':
                EmitAdvance(HclTokenKind.OpenParen, 1);
                return true;
            case ')':
                EmitAdvance(HclTokenKind.CloseParen, 1);
                return true;
            case ',':
                EmitAdvance(HclTokenKind.Comma, 1);
                return true;
            case '?':
                EmitAdvance(HclTokenKind.Question, 1);
                return true;
            case '+':
                EmitAdvance(HclTokenKind.Plus, 1);
                return true;
            case '-':
                EmitAdvance(HclTokenKind.Minus, 1);
                return true;
            case '*':
                EmitAdvance(HclTokenKind.Star, 1);
                return true;
            case '/':
                EmitAdvance(HclTokenKind.Slash, 1);
                return true;
            case '%':
                EmitAdvance(HclTokenKind.Percent, 1);
                return true;
            case '=':
                EmitAdvance(PeekAt(1) switch { '=' => HclTokenKind.EqualEqual, '>' => HclTokenKind.FatArrow, _ => HclTokenKind.Equals }, PeekAt(1) is '=' or '>' ? 2 : 1);
                return true;
            case '!':
                EmitAdvance(PeekAt(1) == '=' ? HclTokenKind.NotEqual : HclTokenKind.Bang, PeekAt(1) == '=' ? 2 : 1);
                return true;
            case '<' when PeekAt(1) == '<':
                LexHeredocOpener();
                return true;
            case '<':
                EmitAdvance(PeekAt(1) == '=' ? HclTokenKind.LessEqual : HclTokenKind.Less, PeekAt(1) == '=' ? 2 : 1);
                return true;
            case '>':
                EmitAdvance(PeekAt(1) == '=' ? HclTokenKind.GreaterEqual : HclTokenKind.Greater, PeekAt(1) == '=' ? 2 : 1);
                return true;
            case '&' when PeekAt(1) == '&':
                EmitAdvance(HclTokenKind.AndAnd, 2);
                return true;
            case '|' when PeekAt(1) == '|':
                EmitAdvance(HclTokenKind.OrOr, 2);
                return true;
            case '.':
                if (PeekAt(1) == '.' && PeekAt(2) == '.')
                {
                    EmitAdvance(HclTokenKind.Ellipsis, 3);
                }
                else
                {
                    EmitAdvance(HclTokenKind.Dot, 1);
                }

                return true;
            case ':':
                EmitAdvance(PeekAt(1) == ':' ? HclTokenKind.DoubleColon : HclTokenKind.Colon, PeekAt(1) == ':' ? 2 : 1);
                return true;
        }

        if (IsIdentifierStart(c))
        {
            var (start, line, column) = (_position, _line, _column);
            while (!AtEnd && IsIdentifierPart(Current))
            {
                Advance();
            }

            Emit(HclTokenKind.Identifier, start, line, column);
            return true;
        }

        if (char.IsAsciiDigit(c))
        {
            LexNumber();
            return true;
        }

        var hint = c switch
        {
            '\'' => "; strings use double quotes in HCL",
            '&' or '|' => "; the logical operators are \"&&\" and \"||\"",
            '$' => "; \"${\" interpolation is only allowed inside a quoted string or heredoc",
            _ => "",
        };
        throw Error(_line, _column, $"unexpected character '{c}'{hint}");
    }

    private void LexCloseBrace(bool strip)
    {
        var (start, line, column) = (_position, _line, _column);
        Advance(strip ? 2 : 1);
        if (_frames.TryPeek(out var top) && top.Kind == FrameKind.Interpolation)
        {
            _frames.Pop();
            Emit(HclTokenKind.TemplateSequenceEnd, start, line, column, strip);
            return;
        }

        if (top is { Kind: FrameKind.Brace })
        {
            _frames.Pop();
        }

        // An unmatched "}" is left for the parser, which knows what it expected instead.
        Emit(HclTokenKind.CloseBrace, start, line, column);
    }

    private void LexNumber()
    {
        var (start, line, column) = (_position, _line, _column);
        while (char.IsAsciiDigit(Current))
        {
            Advance();
        }

        if (Current == '.' && char.IsAsciiDigit(PeekAt(1)))
        {
            Advance();
            while (char.IsAsciiDigit(Current))
            {
                Advance();
            }
        }

        if (Current is 'e' or 'E')
        {
            var offset = PeekAt(1) is '+' or '-' ? 2 : 1;
            if (!char.IsAsciiDigit(PeekAt(offset)))
            {
                throw Error(_line, _column, "invalid number: an exponent needs digits, as in 1e3");
            }

            Advance(offset);
            while (char.IsAsciiDigit(Current))
            {
                Advance();
            }
        }

        Emit(HclTokenKind.Number, start, line, column);
    }

    private void LexHeredocOpener()
    {
        var (start, line, column) = (_position, _line, _column);
        Advance(2);
        if (Current == '-')
        {
            Advance();
        }

        var markerStart = _position;
        if (!IsIdentifierStart(Current))
        {
            throw Error(line, column, "invalid heredoc: \"<<\" must be followed by a marker name and a newline, as in <<EOF");
        }

        while (!AtEnd && IsIdentifierPart(Current))
        {
            Advance();
        }

        var marker = _source[markerStart.._position];
        while (Current is ' ' or '\t')
        {
            Advance();
        }

        if (Current != '\n')
        {
            throw Error(_line, _column, $"invalid heredoc: the marker <<{marker} must be followed by a newline; the content starts on the next line");
        }

        Advance();
        Emit(HclTokenKind.OpenHeredoc, start, line, column);
        _frames.Push(new Frame(FrameKind.HeredocTemplate, line, column) { Marker = marker, AtLineStart = true });
    }

    private void LexQuotedTemplate(Frame frame)
    {
        var (start, line, column) = (_position, _line, _column);
        while (true)
        {
            if (AtEnd || Current == '\n')
            {
                throw Error(frame.Line, frame.Column, "unterminated string literal; close it with a double quote");
            }

            var c = Current;
            if (c == '"')
            {
                EmitLiteral(start, line, column);
                _frames.Pop();
                EmitAdvance(HclTokenKind.CloseQuote, 1);
                return;
            }

            if (c == '\\')
            {
                if (PeekAt(1) is '\n' or '\0')
                {
                    throw Error(frame.Line, frame.Column, "unterminated string literal; close it with a double quote");
                }

                Advance(2);
                continue;
            }

            if (TryLexTemplateOpener(start, line, column))
            {
                return;
            }

            Advance();
        }
    }

    private void LexHeredocTemplate(Frame frame)
    {
        if (AtEnd)
        {
            throw Error(frame.Line, frame.Column, $"unterminated heredoc; end it with a line holding only {frame.Marker}");
        }

        if (frame.AtLineStart)
        {
            var index = _position;
            while (index < _source.Length && _source[index] is ' ' or '\t')
            {
                index++;
            }

            var markerEnd = index + frame.Marker!.Length;
            var lineEnd = markerEnd;
            while (lineEnd < _source.Length && _source[lineEnd] is ' ' or '\t')
            {
                lineEnd++;
            }

            // Like Terraform, the closing marker may be indented and followed by blanks, nothing else.
            if (string.CompareOrdinal(_source, index, frame.Marker, 0, frame.Marker.Length) == 0
                && (lineEnd == _source.Length || _source[lineEnd] == '\n'))
            {
                _frames.Pop();
                EmitAdvance(HclTokenKind.CloseHeredoc, markerEnd - _position);
                return;
            }
        }

        frame.AtLineStart = false;
        var (start, line, column) = (_position, _line, _column);
        while (!AtEnd)
        {
            if (Current == '\n')
            {
                Advance();
                EmitLiteral(start, line, column);
                frame.AtLineStart = true;
                return;
            }

            if (TryLexTemplateOpener(start, line, column))
            {
                return;
            }

            Advance();
        }

        throw Error(frame.Line, frame.Column, $"unterminated heredoc; end it with a line holding only {frame.Marker}");
    }

    /// <summary>
    /// At "${" or "%{" ends the literal so far and opens a sequence; "$${" and "%%{" are escapes
    /// for literal text and are consumed whole.
    /// </summary>
    private bool TryLexTemplateOpener(int literalStart, int literalLine, int literalColumn)
    {
        var c = Current;
        if (c is not ('$' or '%'))
        {
            return false;
        }

        if (PeekAt(1) == c && PeekAt(2) == '{')
        {
            Advance(2);
            return false;
        }

        if (PeekAt(1) != '{')
        {
            return false;
        }

        EmitLiteral(literalStart, literalLine, literalColumn);
        var (start, line, column) = (_position, _line, _column);
        var strip = PeekAt(2) == '~';
        Advance(strip ? 3 : 2);
        Emit(c == '$' ? HclTokenKind.TemplateInterpolation : HclTokenKind.TemplateControl, start, line, column, strip);
        _frames.Push(new Frame(FrameKind.Interpolation, line, column));
        return true;
    }

    private void EmitLiteral(int start, int line, int column)
    {
        if (_position > start)
        {
            Emit(HclTokenKind.TemplateLiteral, start, line, column);
        }
    }

    private void SkipWhitespaceAndComments()
    {
        while (!AtEnd)
        {
            var c = Current;
            if (c is ' ' or '\t' or '\r')
            {
                Advance();
            }
            else if (c == '#' || (c == '/' && PeekAt(1) == '/'))
            {
                // A line comment ends before its newline, which still terminates the attribute.
                while (!AtEnd && Current != '\n')
                {
                    Advance();
                }
            }
            else if (c == '/' && PeekAt(1) == '*')
            {
                var (line, column) = (_line, _column);
                Advance(2);
                while (!(Current == '*' && PeekAt(1) == '/'))
                {
                    if (AtEnd)
                    {
                        throw Error(line, column, "unterminated comment; close the \"/*\" opened here with \"*/\"");
                    }

                    Advance();
                }

                Advance(2);
            }
            else
            {
                return;
            }
        }
    }

    internal static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    internal static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c is '_' or '-';

    private sealed class Frame(FrameKind kind, int line, int column)
    {
        public FrameKind Kind { get; } = kind;

        public int Line { get; } = line;

        public int Column { get; } = column;

        public string? Marker { get; init; }

        public bool AtLineStart { get; set; }
    }
}
