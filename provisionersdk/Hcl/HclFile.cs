using System.Text;

namespace Provisioning.Sdk.Hcl;

/// <summary>A parsed file: its body, plus the tokens, so that expressions can be rendered back as text.</summary>
internal sealed record HclFile(string FilePath, string Source, IReadOnlyList<HclToken> Tokens, HclBody Body)
{
    /// <summary>
    /// The expression's source text with comments dropped and each run of whitespace between tokens
    /// collapsed to one space; text inside string literals and heredocs is kept exactly.
    /// </summary>
    public string TextOf(HclExpression expression)
    {
        var range = expression.Range;
        var text = new StringBuilder();
        var previousEnd = -1;
        for (var index = FirstTokenAtOrAfter(range.Start); index < Tokens.Count && Tokens[index].End <= range.End; index++)
        {
            var token = Tokens[index];
            if (token.Kind is HclTokenKind.Newline or HclTokenKind.EndOfFile)
            {
                continue;
            }

            if (previousEnd >= 0 && token.Start > previousEnd)
            {
                text.Append(' ');
            }

            text.Append(Source, token.Start, token.End - token.Start);
            previousEnd = token.End;
        }

        return text.ToString();
    }

    private int FirstTokenAtOrAfter(int offset)
    {
        int low = 0, high = Tokens.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (Tokens[middle].Start < offset)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
