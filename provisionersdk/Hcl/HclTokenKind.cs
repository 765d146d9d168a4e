namespace Provisioning.Sdk.Hcl;

internal enum HclTokenKind
{
    EndOfFile,
    Newline,
    Identifier,
    Number,

    // Templates: quoted strings and heredocs are token sequences, because they can hold expressions.
    OpenQuote,
    CloseQuote,
    OpenHeredoc,
    CloseHeredoc,
    TemplateLiteral,
    TemplateInterpolation,
    TemplateControl,
    TemplateSequenceEnd,

    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    OpenParen,
    CloseParen,

    Equals,
    Comma,
    Dot,
    Ellipsis,
    Colon,
    DoubleColon,
    Question,
    FatArrow,

    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    EqualEqual,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    AndAnd,
    OrOr,
}
