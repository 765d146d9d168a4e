using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;

using Provisioning.Sdk.Hcl;

namespace Provisioning.Terraform.Hcl;

/// <summary>
/// Converts a literal HCL value to JSON text, for variable defaults. Terraform refuses references and
/// function calls in a default but would fold constant operators, conditionals, for expressions and
/// variable-free templates ("${"a"}b"); the reader evaluates nothing, so it refuses those too, with a
/// message that says to write the value itself.
/// </summary>
internal static class HclJsonConverter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="describe">What the value is, for messages, e.g. "the default of variable \"region\"".</param>
    public static string ToJson(HclExpression expression, string filePath, string describe)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, expression, filePath, describe);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, HclExpression expression, string filePath, string describe)
    {
        switch (expression)
        {
            case HclLiteralExpression { Kind: HclLiteralKind.Number } number:
                writer.WriteRawValue(NormaliseNumber(number.Text, negate: false));
                break;
            case HclUnaryExpression { Operator: HclTokenKind.Minus, Operand: HclLiteralExpression { Kind: HclLiteralKind.Number } number }:
                writer.WriteRawValue(NormaliseNumber(number.Text, negate: true));
                break;
            case HclLiteralExpression { Kind: HclLiteralKind.True }:
                writer.WriteBooleanValue(true);
                break;
            case HclLiteralExpression { Kind: HclLiteralKind.False }:
                writer.WriteBooleanValue(false);
                break;
            case HclLiteralExpression { Kind: HclLiteralKind.Null }:
                writer.WriteNullValue();
                break;
            case HclTemplateExpression template:
                writer.WriteStringValue(LiteralString(template, filePath, describe));
                break;
            case HclParenthesesExpression parentheses:
                Write(writer, parentheses.Inner, filePath, describe);
                break;
            case HclTupleExpression tuple:
                writer.WriteStartArray();
                foreach (var item in tuple.Items)
                {
                    Write(writer, item, filePath, describe);
                }

                writer.WriteEndArray();
                break;
            case HclObjectExpression obj:
                WriteObject(writer, obj, filePath, describe);
                break;
            default:
                throw new HclSyntaxException(filePath, expression.Range.Line, expression.Range.Column,
                    $"{describe} must be a literal value (a string, number, bool, null, or a list or object of those): Terraform refuses references and function calls here, and defaults are read without evaluating anything, so write the value itself");
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, HclObjectExpression obj, string filePath, string describe)
    {
        // Like HCL, a repeated key keeps its last value; the order is that of first appearance.
        var values = new Dictionary<string, HclExpression>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var item in obj.Items)
        {
            var key = ObjectKey(item.Key, filePath, describe);
            if (values.TryAdd(key, item.Value))
            {
                order.Add(key);
            }
            else
            {
                values[key] = item.Value;
            }
        }

        writer.WriteStartObject();
        foreach (var key in order)
        {
            writer.WritePropertyName(key);
            Write(writer, values[key], filePath, describe);
        }

        writer.WriteEndObject();
    }

    /// <summary>An object key that is an identifier or a literal string, as written.</summary>
    internal static string ObjectKey(HclExpression key, string filePath, string describe) => key switch
    {
        HclVariableExpression variable => variable.Name,
        HclLiteralExpression literal => literal.Text,
        HclTemplateExpression template => LiteralString(template, filePath, describe),
        _ => throw new HclSyntaxException(filePath, key.Range.Line, key.Range.Column,
            $"an object key in {describe} must be a name or a literal string; write it without references or parentheses"),
    };

    internal static string LiteralString(HclTemplateExpression template, string filePath, string describe)
    {
        if (template.LiteralValue is { } value)
        {
            return value;
        }

        var sequence = template.Parts.First(part => part is not HclTemplateLiteralPart);
        var range = sequence switch
        {
            HclTemplateInterpolationPart interpolation => interpolation.Range,
            HclTemplateDirectivePart directive => directive.Range,
            _ => template.Range,
        };
        var kind = sequence is HclTemplateDirectivePart ? "a template directive (%{ ... })" : "an interpolation (${ ... })";
        throw new HclSyntaxException(filePath, range.Line, range.Column,
            $"{describe} contains {kind}, but only a literal string is read here, without evaluating anything; write the text itself (write $${{ for a literal \"${{\")");
    }

    /// <summary>HCL numbers are exact decimals; JSON gets the shortest form of the same value.</summary>
    internal static string NormaliseNumber(string text, bool negate)
    {
        if (!text.Contains('.', StringComparison.Ordinal) && !text.Contains('e', StringComparison.OrdinalIgnoreCase))
        {
            var integer = BigInteger.Parse(text, CultureInfo.InvariantCulture);
            return (negate ? -integer : integer).ToString(CultureInfo.InvariantCulture);
        }

        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact))
        {
            // Dividing by 1.000… strips trailing zeros without changing the value.
            exact /= 1.0000000000000000000000000000m;
            if (exact == decimal.Truncate(exact))
            {
                return ((negate ? -1 : 1) * new BigInteger(exact)).ToString(CultureInfo.InvariantCulture);
            }

            return (negate ? -exact : exact).ToString(CultureInfo.InvariantCulture);
        }

        var approximate = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return (negate ? -approximate : approximate).ToString("R", CultureInfo.InvariantCulture);
    }
}
