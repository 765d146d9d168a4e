using System.Text.Json;

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

    public bool IsEmpty => _secrets.Length == 0;

    /// <summary>
    /// Masks secrets in every string value of a JSON document (property names and structure untouched).
    /// <c>terraform show -json</c> of a plan prints sensitive variables and the attributes derived from
    /// them in clear text; the plan leaves the provisioner, so they must not.
    /// </summary>
    public byte[] RedactJson(JsonElement document)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, document);
        }

        return buffer.ToArray();
    }

    private void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(Redact(element.GetString()!));
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

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
