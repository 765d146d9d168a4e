namespace Provisioning.Terraform.Execution;

/// <summary>
/// Replaces known secret values (sensitive variables, tokens, private keys from the build's metadata)
/// in log lines. Terraform masks what it knows to be sensitive, but a local-exec script or a provider
/// may echo a value anyway; secrets must never reach the job log.
/// </summary>
internal sealed class SecretRedactor
{
    internal const string Mask = "(sensitive value)";

    // Very short values would mask ordinary words everywhere and protect little.
    private const int MinimumLength = 4;

    private readonly string[] _secrets;

    public SecretRedactor(IEnumerable<string?> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = [.. secrets
            .SelectMany(secret => (secret ?? "").ReplaceLineEndings("\n").Split('\n').Append(secret ?? ""))
            .Select(secret => secret.Trim())
            .Where(secret => secret.Length >= MinimumLength)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(secret => secret.Length)];
    }

    public static SecretRedactor None { get; } = new([]);

    public string Redact(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        foreach (var secret in _secrets)
        {
            if (line.Contains(secret, StringComparison.Ordinal))
            {
                line = line.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return line;
    }
}
