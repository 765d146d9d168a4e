namespace Provisioning.Sdk.Hcl;

internal abstract record HclTemplatePart;

/// <summary>Literal text with escapes already decoded (and, in <c>&lt;&lt;-</c> heredocs, indentation removed).</summary>
internal sealed record HclTemplateLiteralPart(string Value) : HclTemplatePart;

internal sealed record HclTemplateInterpolationPart(HclExpression Expression, HclRange Range) : HclTemplatePart;

/// <summary>A <c>%{ ... }</c> directive: if, else, endif, for or endfor, with its expression when it has one.</summary>
internal sealed record HclTemplateDirectivePart(string Keyword, HclExpression? Expression, HclRange Range) : HclTemplatePart;
