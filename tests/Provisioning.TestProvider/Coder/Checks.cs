using System.Globalization;
using System.Text.RegularExpressions;

namespace Provisioning.TestProvider.Coder;

/// <summary>The SDKv2 validation helpers the coder provider uses, with their messages (helper/validation).</summary>
internal static class Checks
{
    public static Func<object, string?> OneOf(string key, params string[] allowed) =>
        value => allowed.Contains((string)value, StringComparer.Ordinal) ? null
            : $"expected {key} to be one of {GoFormat.QuoteList(allowed)}, got {value}";

    public static Func<object, string?> AtLeast(string key, long minimum) =>
        value => (decimal)value >= minimum ? null
            : $"expected {key} to be at least ({minimum}), got {Number(value)}";

    public static Func<object, string?> Between(string key, long minimum, long maximum) =>
        value => (decimal)value >= minimum && (decimal)value <= maximum ? null
            : $"expected {key} to be in the range ({minimum} - {maximum}), got {Number(value)}";

    public static Func<object, string?> NotEmpty(string key) =>
        value => ((string)value).Length > 0 ? null : $"expected {GoFormat.Quote(key)} to not be an empty string, got ";

    /// <summary>
    /// A list attribute with SDKv2's MinItems (checked by the provider, not by Terraform) whose elements are checked
    /// with StringIsNotEmpty; the key is the attribute's own name, where SDKv2 prints the whole path (rule.0.run).
    /// </summary>
    public static Func<object, string?> NonEmptyStrings(string key, int minimum) =>
        value =>
        {
            var items = (List<object?>)value;
            if (items.Count < minimum)
            {
                return $"{key}: attribute supports {minimum} item minimum, config has {items.Count} declared";
            }

            var empty = items.FindIndex(item => item is string { Length: 0 });
            return empty < 0 ? null : NotEmpty($"{key}.{empty}")("");
        };

    public static Func<object, string?> LengthBetween(string key, int minimum, int maximum) =>
        value => ((string)value).Length >= minimum && ((string)value).Length <= maximum ? null
            : $"expected length of {key} to be in the range ({minimum} - {maximum}), got {value}";

    public static Func<object, string?> Matches(string key, Regex pattern, string message) =>
        value => pattern.IsMatch((string)value) ? null : $"invalid value for {key} ({message})";

    /// <summary>helpers.ValidateURL: Go's url.Parse, which in practice fails on a bad percent escape (or a control character).</summary>
    public static string? Url(object value)
    {
        var text = (string)value;
        if (text.Any(char.IsControl))
        {
            return $"parse {GoFormat.Quote(text)}: net/url: invalid control character in URL";
        }

        for (var index = 0; index < text.Length; index++)
        {
            if (text[index] == '%' && (index + 2 >= text.Length || !Uri.IsHexDigit(text[index + 1]) || !Uri.IsHexDigit(text[index + 2])))
            {
                var escape = text.Substring(index, Math.Min(3, text.Length - index));
                return $"parse {GoFormat.Quote(text)}: invalid URL escape {GoFormat.Quote(escape)}";
            }
        }

        return null;
    }

    public static string Number(object value) => ((decimal)value).ToString(CultureInfo.InvariantCulture);
}
