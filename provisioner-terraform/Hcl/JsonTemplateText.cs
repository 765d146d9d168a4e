using System.Text;

namespace Provisioning.Terraform.Hcl;

/// <summary>
/// In Terraform's JSON syntax a string value is a template. To give the same text as the HCL form,
/// a string that is exactly one <c>${expr}</c> becomes <c>expr</c>, and any other string becomes the
/// HCL quoted string that means the same (escaping only the literal parts).
/// </summary>
internal static class JsonTemplateText
{
    public static string ToExpressionText(string template)
    {
        var segments = Split(template);
        if (segments is [{ IsSequence: true } only] && only.Text.StartsWith("${", StringComparison.Ordinal))
        {
            return only.Text[2..^1].Trim().Trim('~').Trim();
        }

        var result = new StringBuilder("\"");
        foreach (var (isSequence, text) in segments)
        {
            if (isSequence)
            {
                result.Append(text);
                continue;
            }

            foreach (var c in text)
            {
                result.Append(c switch
                {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ => c.ToString(),
                });
            }
        }

        return result.Append('"').ToString();
    }

    /// <summary>
    /// Splits a template into literal text and <c>${...}</c>/<c>%{...}</c> sequences, following nested
    /// braces and quoted strings inside sequences. "$${" and "%%{" stay literal, as written.
    /// </summary>
    private static List<(bool IsSequence, string Text)> Split(string template)
    {
        var segments = new List<(bool, string)>();
        var literalStart = 0;
        var i = 0;
        while (i < template.Length)
        {
            var c = template[i];
            if ((c is '$' or '%') && i + 2 < template.Length && template[i + 1] == c && template[i + 2] == '{')
            {
                i += 3;
                continue;
            }

            if ((c is '$' or '%') && i + 1 < template.Length && template[i + 1] == '{')
            {
                var end = SequenceEnd(template, i + 2);
                if (end < 0)
                {
                    // Unbalanced: Terraform will report it; keep the text literal.
                    break;
                }

                if (i > literalStart)
                {
                    segments.Add((false, template[literalStart..i]));
                }

                segments.Add((true, template[i..(end + 1)]));
                i = end + 1;
                literalStart = i;
                continue;
            }

            i++;
        }

        if (literalStart < template.Length || segments.Count == 0)
        {
            segments.Add((false, template[literalStart..]));
        }

        return segments;
    }

    private static int SequenceEnd(string template, int start)
    {
        var depth = 0;
        for (var i = start; i < template.Length; i++)
        {
            switch (template[i])
            {
                case '{':
                    depth++;
                    break;
                case '}' when depth == 0:
                    return i;
                case '}':
                    depth--;
                    break;
                case '"':
                    for (i++; i < template.Length && template[i] != '"'; i++)
                    {
                        if (template[i] == '\\')
                        {
                            i++;
                        }
                    }

                    break;
            }
        }

        return -1;
    }
}
