using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Provisioning.Cli.Commands;

/// <summary>
/// Makes text from templates safe to print: Terraform, providers and template scripts write whatever they like, and
/// escape sequences in it could recolor, move the cursor, retitle or clear the user's terminal (or hide lines).
/// </summary>
internal static partial class TerminalText
{
    /// <summary>The characters <see cref="char.IsControl(char)"/> is true for, except tab.</summary>
    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(code => code != '\t').Select(code => (char)code), .. Enumerable.Range(0x7F, 0x21).Select(code => (char)code)]);

    /// <summary>The text without ANSI/VT control sequences (CSI, OSC, other ESC sequences) and without C0/C1 control characters except tab.</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        // Nearly every line holds no control character at all (every sequence the pattern removes starts with one):
        // it is returned as it is, without a regex pass and a copy per line of a followed build.
        if (!HasControlCharacter(text))
        {
            return text;
        }

        var withoutSequences = EscapeSequence().Replace(text, string.Empty);
        var builder = new StringBuilder(withoutSequences.Length);
        foreach (var character in withoutSequences)
        {
            if (character == '\t' || !char.IsControl(character))
            {
                builder.Append(character);
            }
        }

        return builder.ToString();
    }

    private static bool HasControlCharacter(string text) => text.AsSpan().ContainsAny(ControlCharacters);

    // CSI (ESC [ … final byte, or the 8-bit CSI), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC strings, and two-byte ESC sequences.
    [GeneratedRegex(@"(\x1B\[|\x9B)[0-?]*[ -/]*[@-~]|\x1B\][^\x07\x1B]*(\x07|\x1B\\)?|\x1B[PX^_][^\x1B]*(\x1B\\)?|\x1B[ -/]*[0-~]", RegexOptions.CultureInvariant)]
    private static partial Regex EscapeSequence();
}
