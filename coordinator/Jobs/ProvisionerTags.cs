using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Provisioning.Coordinator.Jobs;

/// <summary>
/// Tag sets of jobs and daemons, and the rule that matches them (as in the reference system): a job with
/// tags T may run on a daemon with tags D when T ⊆ D; an untagged job runs only on untagged daemons.
/// </summary>
public static class ProvisionerTags
{
    private const int MaxKeyLength = 64;
    private const int MaxValueLength = 256;

    /// <summary>The canonical form: keys and values trimmed and validated, ordered by key (ordinal).</summary>
    public static SortedDictionary<string, string> Canonicalize(IReadOnlyDictionary<string, string>? tags)
    {
        var canonical = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (tags is null)
        {
            return canonical;
        }

        foreach (var (rawKey, rawValue) in tags)
        {
            var key = (rawKey ?? string.Empty).Trim();
            var value = (rawValue ?? string.Empty).Trim();
            if (key.Length is 0 or > MaxKeyLength || !key.All(IsKeyCharacter))
            {
                throw new ArgumentException(
                    $"Tag key '{rawKey}' is invalid: use 1 to {MaxKeyLength} letters, digits, '-', '_', '.' or '/'.", nameof(tags));
            }

            if (value.Length > MaxValueLength || value.Any(char.IsControl))
            {
                throw new ArgumentException(
                    $"Tag '{key}' has an invalid value: use at most {MaxValueLength} characters and no control characters.", nameof(tags));
            }

            if (!canonical.TryAdd(key, value))
            {
                throw new ArgumentException($"Tag key '{key}' appears twice (after trimming spaces).", nameof(tags));
            }
        }

        return canonical;
    }

    /// <summary>Whether a job tagged <paramref name="jobTags"/> may run on a daemon tagged <paramref name="daemonTags"/>.</summary>
    public static bool Matches(IReadOnlyDictionary<string, string> jobTags, IReadOnlyDictionary<string, string> daemonTags)
    {
        ArgumentNullException.ThrowIfNull(jobTags);
        ArgumentNullException.ThrowIfNull(daemonTags);
        if (jobTags.Count == 0)
        {
            return daemonTags.Count == 0;
        }

        return jobTags.All(tag => daemonTags.TryGetValue(tag.Key, out var value) && string.Equals(value, tag.Value, StringComparison.Ordinal));
    }

    /// <summary>The canonical JSON object of a tag set (keys ordered), as stored in the database.</summary>
    public static string ToJson(IReadOnlyDictionary<string, string>? tags) => JsonSerializer.Serialize(Canonicalize(tags));

    public static IReadOnlyDictionary<string, string> FromJson(string json) =>
        Canonicalize(JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? []);

    /// <summary>
    /// The Hangfire queue of (provisioner type, tag set): a readable prefix and a short hash of the canonical
    /// form, because Hangfire accepts only [a-z0-9_-] in queue names.
    /// </summary>
    public static string QueueName(string provisioner, IReadOnlyDictionary<string, string>? tags)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provisioner);
        var canonical = provisioner + "\n" + ToJson(tags);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
        var prefix = new string([.. provisioner.ToLowerInvariant().Where(character => character is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_').Take(24)]);
        return (prefix.Length == 0 ? "p" : prefix) + "-" + hash;
    }

    private static bool IsKeyCharacter(char character) =>
        char.IsAsciiLetterOrDigit(character) || character is '-' or '_' or '.' or '/';
}
