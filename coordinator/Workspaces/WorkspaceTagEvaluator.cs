using System.Globalization;

using Provisioning.Coordinator.Api;
using Provisioning.Sdk.Hcl;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// Evaluates a template version's <c>coder_workspace_tags</c> for one run (pure logic), as Coder's <c>wsbuilder</c>
/// does at build time: each tag's stored HCL expression is evaluated alone, with <c>var.NAME</c> (the version's variable
/// values) and <c>data.coder_parameter.NAME.value</c> (the run's resolved parameter values) as strings, and must give
/// a string, number or bool, which becomes the tag's text. Anything else a template could name (resources, other data
/// sources, files) is refused with the tag and the reason, as Coder refuses it
/// (docs/decisions/0016-workspace-tag-evaluation-and-routing.md). Operators follow HCL's conversions: <c>!</c>,
/// <c>&amp;&amp;</c> and conditions take "true"/"false", arithmetic and comparisons take numeric strings, and
/// <c>==</c> compares type and value.
/// </summary>
internal static class WorkspaceTagEvaluator
{
    private static readonly string[] Functions = ["coalesce", "join", "length", "lower", "replace", "trimprefix", "trimspace", "trimsuffix", "upper"];

    /// <summary>The tags <paramref name="expressions"/> give with these values; 400 naming <c>workspace_tags.&lt;key&gt;</c> when one cannot be evaluated.</summary>
    public static Dictionary<string, string> Evaluate(
        IReadOnlyDictionary<string, string> expressions,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(expressions);
        var scope = Scope(parameters, variables);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, text) in expressions.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            try
            {
                tags[key] = TagText(Eval(HclParser.ParseSingleExpression(text, "workspace tag"), scope));
            }
            catch (Exception exception) when (exception is WorkspaceTagException or HclSyntaxException)
            {
                var reason = exception is HclSyntaxException syntax ? syntax.Detail : exception.Message;
                throw ApiProblemException.Invalid(
                    $"workspace_tags.{key}", $"Workspace tag \"{key}\" = {text} cannot be evaluated: {reason}.");
            }
        }

        return tags;
    }

    /// <summary>
    /// One parsed expression's value as a tag's text, with these values in scope (the same rules as <see cref="Evaluate"/>);
    /// <see cref="WorkspaceTagException"/> when it cannot be evaluated. For callers that report failures their own way.
    /// </summary>
    public static string EvaluateText(HclExpression expression, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> variables) =>
        TagText(Eval(expression, Scope(parameters, variables)));

    private static Dictionary<string, object?> Scope(IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> variables) =>
        new(StringComparer.Ordinal)
        {
            ["var"] = variables.ToDictionary(pair => pair.Key, pair => (object?)pair.Value, StringComparer.Ordinal),
            ["data"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["coder_parameter"] = parameters.ToDictionary(
                    pair => pair.Key,
                    pair => (object?)new Dictionary<string, object?>(StringComparer.Ordinal) { ["value"] = pair.Value },
                    StringComparer.Ordinal),
            },
        };

    private static string TagText(object? value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        decimal d => FormatNumber(d),
        null => throw new WorkspaceTagException("it is null; a tag needs a string, number or bool"),
        _ => throw new WorkspaceTagException($"it is {Describe(value)}; a tag needs a string, number or bool"),
    };

    private static object? Eval(HclExpression expression, IReadOnlyDictionary<string, object?> scope) => expression switch
    {
        HclLiteralExpression { Kind: HclLiteralKind.Number } number => decimal.Parse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture),
        HclLiteralExpression { Kind: HclLiteralKind.True } => true,
        HclLiteralExpression { Kind: HclLiteralKind.False } => false,
        HclLiteralExpression => null,
        HclTemplateExpression template => Template(template, scope),
        HclParenthesesExpression parentheses => Eval(parentheses.Inner, scope),
        HclVariableExpression variable => scope.TryGetValue(variable.Name, out var root)
            ? root
            : throw new WorkspaceTagException($"\"{variable.Name}\" is not available here: a tag may use only literal values, var.NAME and data.coder_parameter.NAME.value"),
        HclGetAttributeExpression get => Attribute(Eval(get.Source, scope), get.Name),
        HclIndexExpression index => Index(Eval(index.Collection, scope), Eval(index.Key, scope)),
        HclUnaryExpression { Operator: HclTokenKind.Bang } not => !ToBool(Eval(not.Operand, scope)),
        HclUnaryExpression negate => -ToNumber(Eval(negate.Operand, scope)),
        HclBinaryExpression binary => Binary(binary, scope),
        HclConditionalExpression conditional => ToBool(Eval(conditional.Condition, scope))
            ? Eval(conditional.TrueResult, scope)
            : Eval(conditional.FalseResult, scope),
        HclTupleExpression tuple => tuple.Items.Select(item => Eval(item, scope)).ToList(),
        HclObjectExpression obj => obj.Items.ToDictionary(
            item => item.Key is HclVariableExpression name ? name.Name : ToText(Eval(item.Key, scope)), item => Eval(item.Value, scope), StringComparer.Ordinal),
        HclFunctionCallExpression call => Call(call, scope),
        _ => throw new WorkspaceTagException("splat and for expressions are not supported in workspace tags"),
    };

    private static string Template(HclTemplateExpression template, IReadOnlyDictionary<string, object?> scope)
    {
        var text = new System.Text.StringBuilder();
        foreach (var part in template.Parts)
        {
            text.Append(part switch
            {
                HclTemplateLiteralPart literal => literal.Value,
                HclTemplateInterpolationPart interpolation => ToText(Eval(interpolation.Expression, scope)),
                _ => throw new WorkspaceTagException("template directives (%{ ... }) are not supported in workspace tags; use a conditional expression"),
            });
        }

        return text.ToString();
    }

    private static object? Attribute(object? source, string name) => source switch
    {
        Dictionary<string, object?> map when map.TryGetValue(name, out var value) => value,
        Dictionary<string, object?> => throw new WorkspaceTagException($"there is no \"{name}\" here (is the name spelled as the template declares it?)"),
        _ => throw new WorkspaceTagException($"{Describe(source)} has no attribute \"{name}\""),
    };

    private static object? Index(object? collection, object? key) => collection switch
    {
        Dictionary<string, object?> map => Attribute(map, ToText(key)),
        List<object?> list => (int)ToNumber(key) is var position && position >= 0 && position < list.Count
            ? list[position]
            : throw new WorkspaceTagException($"index {ToText(key)} is outside the list of {list.Count}"),
        _ => throw new WorkspaceTagException($"{Describe(collection)} cannot be indexed"),
    };

    private static object? Binary(HclBinaryExpression binary, IReadOnlyDictionary<string, object?> scope)
    {
        // && and || evaluate both sides in HCL too (no short circuit), so a bad operand is reported either way.
        var left = Eval(binary.Left, scope);
        var right = Eval(binary.Right, scope);
        return binary.Operator switch
        {
            HclTokenKind.EqualEqual => AreEqual(left, right),
            HclTokenKind.NotEqual => !AreEqual(left, right),
            HclTokenKind.AndAnd => ToBool(left) & ToBool(right),
            HclTokenKind.OrOr => ToBool(left) | ToBool(right),
            HclTokenKind.Less => ToNumber(left) < ToNumber(right),
            HclTokenKind.LessEqual => ToNumber(left) <= ToNumber(right),
            HclTokenKind.Greater => ToNumber(left) > ToNumber(right),
            HclTokenKind.GreaterEqual => ToNumber(left) >= ToNumber(right),
            HclTokenKind.Plus => ToNumber(left) + ToNumber(right),
            HclTokenKind.Minus => ToNumber(left) - ToNumber(right),
            HclTokenKind.Star => ToNumber(left) * ToNumber(right),
            HclTokenKind.Slash => ToNumber(right) is var divisor && divisor != 0 ? ToNumber(left) / divisor : throw new WorkspaceTagException("division by zero"),
            HclTokenKind.Percent => ToNumber(right) is var modulus && modulus != 0 ? ToNumber(left) % modulus : throw new WorkspaceTagException("modulo by zero"),
            _ => throw new WorkspaceTagException($"the operator {binary.Operator} is not supported"),
        };
    }

    private static object? Call(HclFunctionCallExpression call, IReadOnlyDictionary<string, object?> scope)
    {
        if (!Functions.Contains(call.Name, StringComparer.Ordinal))
        {
            throw new WorkspaceTagException($"the function {call.Name}() is not available in workspace tags; these are: {string.Join(", ", Functions)}");
        }

        var arguments = call.Arguments.Select(argument => Eval(argument, scope)).ToList();
        if (call.ExpandFinalArgument && arguments.Count > 0 && arguments[^1] is List<object?> expanded)
        {
            arguments = [.. arguments[..^1], .. expanded];
        }

        string Text(int index) => index < arguments.Count ? ToText(arguments[index]) : throw new WorkspaceTagException($"{call.Name}() needs {index + 1} argument(s)");
        return call.Name switch
        {
            "lower" => Text(0).ToLowerInvariant(),
            "upper" => Text(0).ToUpperInvariant(),
            "trimspace" => Text(0).Trim(),
            "trimprefix" => Text(0).StartsWith(Text(1), StringComparison.Ordinal) ? Text(0)[Text(1).Length..] : Text(0),
            "trimsuffix" => Text(0).EndsWith(Text(1), StringComparison.Ordinal) ? Text(0)[..^Text(1).Length] : Text(0),
            "replace" => Text(0).Replace(Text(1), Text(2), StringComparison.Ordinal),
            "join" => string.Join(Text(0), arguments.Skip(1).SelectMany(argument => argument is List<object?> list ? list : [argument]).Select(ToText)),
            "length" => arguments.Count > 0 && arguments[0] is List<object?> list ? list.Count
                : arguments.Count > 0 && arguments[0] is Dictionary<string, object?> map ? map.Count
                : Text(0).Length,
            _ => arguments.FirstOrDefault(argument => argument is not null && !(argument is string s && s.Length == 0))
                ?? throw new WorkspaceTagException("coalesce() found no non-null, non-empty argument"),
        };
    }

    private static bool AreEqual(object? left, object? right) => (left, right) switch
    {
        (null, null) => true,
        (string a, string b) => a == b,
        (decimal a, decimal b) => a == b,
        (bool a, bool b) => a == b,
        _ => false,
    };

    private static bool ToBool(object? value) => value switch
    {
        bool b => b,
        "true" => true,
        "false" => false,
        _ => throw new WorkspaceTagException($"a bool is required, but {Describe(value)} is not one (a string converts only from \"true\" or \"false\")"),
    };

    private static decimal ToNumber(object? value) => value switch
    {
        decimal d => d,
        string s when decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw new WorkspaceTagException($"a number is required, but {Describe(value)} is not one"),
    };

    private static string ToText(object? value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        decimal d => FormatNumber(d),
        _ => throw new WorkspaceTagException($"a string is required, but {Describe(value)} cannot become one"),
    };

    private static string FormatNumber(decimal value) =>
        (value / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"the string \"{s}\"",
        bool b => b ? "true" : "false",
        decimal d => FormatNumber(d),
        List<object?> => "a list",
        _ => "an object",
    };
}
