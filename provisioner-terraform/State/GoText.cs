using System.Globalization;
using System.Text;

namespace Provisioning.Terraform.State;

/// <summary>
/// Text formatting that reproduces the reference system's error messages, which are built with Go's
/// <c>%q</c> verb and its "a, b and c" list joining.
/// </summary>
internal static class GoText
{
    /// <summary>A double-quoted string with Go escapes, as <c>fmt.Sprintf("%q", value)</c> prints it.</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\a': builder.Append("\\a"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\v': builder.Append("\\v"); break;
                default:
                    if (Rune.IsControl(rune) || rune.Value == 0xFFFD)
                    {
                        builder.Append(rune.Value < 0x80
                            ? string.Create(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}")
                            : rune.Value <= 0xFFFF
                                ? string.Create(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}")
                                : string.Create(CultureInfo.InvariantCulture, $"\\U{rune.Value:x8}"));
                    }
                    else
                    {
                        builder.Append(rune.ToString());
                    }

                    break;
            }
        }

        builder.Append('"');
        return builder.ToString();
    }

    /// <summary>"a", "a and b", "a, b and c".</summary>
    public static string JoinWithConjunction(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1],
    };
}
