namespace Provisioning.Sdk.Hcl;

// The expression tree. The reader evaluates nothing: it converts literal defaults to JSON and keeps
// everything else as source text, so the nodes carry structure only as far as tests and that need.

internal abstract record HclExpression(HclRange Range);

internal enum HclLiteralKind
{
    Number,
    True,
    False,
    Null,
}

internal sealed record HclLiteralExpression(HclRange Range, HclLiteralKind Kind, string Text) : HclExpression(Range);

internal sealed record HclTemplateExpression(HclRange Range, IReadOnlyList<HclTemplatePart> Parts, bool IsHeredoc) : HclExpression(Range)
{
    /// <summary>The string when the template has no interpolations or directives; otherwise null.</summary>
    public string? LiteralValue =>
        Parts.All(part => part is HclTemplateLiteralPart)
            ? string.Concat(Parts.Cast<HclTemplateLiteralPart>().Select(part => part.Value))
            : null;
}

internal sealed record HclVariableExpression(HclRange Range, string Name) : HclExpression(Range);

internal sealed record HclFunctionCallExpression(HclRange Range, string Name, IReadOnlyList<HclExpression> Arguments, bool ExpandFinalArgument) : HclExpression(Range);

internal sealed record HclTupleExpression(HclRange Range, IReadOnlyList<HclExpression> Items) : HclExpression(Range);

internal sealed record HclObjectItem(HclExpression Key, HclExpression Value);

internal sealed record HclObjectExpression(HclRange Range, IReadOnlyList<HclObjectItem> Items) : HclExpression(Range);

internal sealed record HclIndexExpression(HclRange Range, HclExpression Collection, HclExpression Key) : HclExpression(Range);

internal sealed record HclGetAttributeExpression(HclRange Range, HclExpression Source, string Name) : HclExpression(Range);

/// <summary><c>source.*</c> (attribute splat) or <c>source[*]</c> (full splat); later traversals apply to each element.</summary>
internal sealed record HclSplatExpression(HclRange Range, HclExpression Source, bool IsFullSplat) : HclExpression(Range);

internal sealed record HclUnaryExpression(HclRange Range, HclTokenKind Operator, HclExpression Operand) : HclExpression(Range);

internal sealed record HclBinaryExpression(HclRange Range, HclTokenKind Operator, HclExpression Left, HclExpression Right) : HclExpression(Range);

internal sealed record HclConditionalExpression(HclRange Range, HclExpression Condition, HclExpression TrueResult, HclExpression FalseResult) : HclExpression(Range);

/// <summary><c>[for v in c : value if cond]</c> or <c>{for k, v in c : key => value... if cond}</c>.</summary>
internal sealed record HclForExpression(
    HclRange Range,
    string? KeyVariable,
    string ValueVariable,
    HclExpression Collection,
    HclExpression? KeyResult,
    HclExpression ValueResult,
    bool IsGrouping,
    HclExpression? Condition) : HclExpression(Range);

internal sealed record HclParenthesesExpression(HclRange Range, HclExpression Inner) : HclExpression(Range);
