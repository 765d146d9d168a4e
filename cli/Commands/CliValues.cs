using System.Globalization;
using System.Text.RegularExpressions;

namespace Provisioning.Cli.Commands;

/// <summary>Parses the value forms flags accept: durations like <c>5m</c> or <c>1h30m</c>, sizes like <c>64MiB</c>, listen addresses like <c>127.0.0.1:3000</c>.</summary>
internal static partial class CliValues
{
    /// <summary>A duration: Go-style units (<c>90s</c>, <c>5m</c>, <c>1h30m</c>, <c>500ms</c>) or a TimeSpan (<c>00:05:00</c>).</summary>
    public static TimeSpan ParseDuration(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && text.Contains(':', StringComparison.Ordinal))
        {
            return span;
        }

        var matches = DurationPart().Matches(text);
        if (matches.Count == 0 || string.Concat(matches.Select(match => match.Value)) != text)
        {
            throw new FormatException($"'{value}' is not a duration: use e.g. 30s, 5m, 1h30m or 00:05:00.");
        }

        var total = TimeSpan.Zero;
        foreach (Match match in matches)
        {
            var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            total += match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
        }

        return total;
    }

    /// <summary>A size in bytes: a number with an optional unit (<c>B</c>, <c>KB</c>/<c>KiB</c>, <c>MB</c>/<c>MiB</c>, <c>GB</c>/<c>GiB</c>); decimal units are powers of 1000.</summary>
    public static long ParseSize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var match = SizePattern().Match(value.Trim());
        if (!match.Success)
        {
            throw new FormatException($"'{value}' is not a size: use bytes or a unit, e.g. 67108864, 64MiB or 100MB.");
        }

        var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var factor = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KIB" => 1L << 10,
            "KB" => 1000L,
            "M" or "MIB" => 1L << 20,
            "MB" => 1000L * 1000,
            "G" or "GIB" => 1L << 30,
            _ => 1000L * 1000 * 1000,
        };
        return checked((long)(amount * factor));
    }

    /// <summary>A listen address as a URL: <c>host:port</c> gets <c>http://</c>; a URL is kept.</summary>
    public static string ParseAddress(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        var url = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.IsDefaultPort && !text.Contains(':', StringComparison.Ordinal))
        {
            throw new FormatException($"'{value}' is not a listen address: use host:port, e.g. 127.0.0.1:3000 (or https://host:port).");
        }

        return $"{uri.Scheme}://{uri.Authority}";
    }

    /// <summary>An isolation (sandbox) mode for Terraform: <c>none</c>, <c>bubblewrap</c>, <c>docker</c> or <c>auto</c>.</summary>
    public static Provisioning.Terraform.Sandbox.TerraformSandboxMode ParseSandbox(string value, string flag)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Trim().ToLowerInvariant() switch
        {
            "none" => Provisioning.Terraform.Sandbox.TerraformSandboxMode.None,
            "bubblewrap" or "bwrap" => Provisioning.Terraform.Sandbox.TerraformSandboxMode.Bubblewrap,
            "docker" => Provisioning.Terraform.Sandbox.TerraformSandboxMode.Docker,
            "auto" => Provisioning.Terraform.Sandbox.TerraformSandboxMode.Auto,
            _ => throw new FormatException($"{flag} '{value}' is not a sandbox mode: use none, bubblewrap, docker or auto."),
        };
    }

    /// <summary>Whether a PostgreSQL URL or connection string carries a password (only then is it a secret).</summary>
    public static bool HasPassword(string postgresUrl)
    {
        ArgumentNullException.ThrowIfNull(postgresUrl);
        if (postgresUrl.Contains("password", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return Uri.TryCreate(postgresUrl, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h|d)")]
    private static partial Regex DurationPart();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();
}
