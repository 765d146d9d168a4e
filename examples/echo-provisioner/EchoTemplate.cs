using System.Text.Json;
using System.Text.Json.Serialization;

namespace Provisioning.Examples.EchoProvisioner;

/// <summary>
/// The template format of the echo provisioner: an <c>echo.json</c> file at the archive's root that
/// declares variables, the log lines to emit and the resources to report.
/// </summary>
internal sealed record EchoTemplate(
    IReadOnlyList<EchoVariable>? Variables,
    IReadOnlyList<EchoLogLine>? Logs,
    IReadOnlyList<EchoResource>? Resources)
{
    public const string FileName = "echo.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads echo.json from a session's directory.</summary>
    /// <exception cref="EchoTemplateException">The file is missing or malformed; the message says how to fix it.</exception>
    public static async Task<EchoTemplate> ReadAsync(string directory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new EchoTemplateException($"The template has no {FileName} at its root; the echo provisioner reads its variables, logs and resources from that file (see examples/echo-provisioner/sample).");
        }

        EchoTemplate? template;
        try
        {
            await using var stream = File.OpenRead(path);
            template = await JsonSerializer.DeserializeAsync<EchoTemplate>(stream, Options, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException exception)
        {
            throw new EchoTemplateException($"{FileName} is not valid: {exception.Message}", exception);
        }

        if (template is null)
        {
            throw new EchoTemplateException($"{FileName} holds null; it must be an object with \"variables\", \"logs\" and \"resources\".");
        }

        template.Validate();
        return template;
    }

    private void Validate()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variable in Variables ?? [])
        {
            if (string.IsNullOrEmpty(variable.Name) || !names.Add(variable.Name))
            {
                throw new EchoTemplateException($"{FileName}: every variable needs a name of its own; \"{variable.Name}\" is empty or declared twice.");
            }
        }

        foreach (var resource in Resources ?? [])
        {
            if (string.IsNullOrEmpty(resource.Name) || string.IsNullOrEmpty(resource.Type))
            {
                throw new EchoTemplateException($"{FileName}: every resource needs a \"name\" and a \"type\".");
            }

            foreach (var transition in resource.Transitions ?? [])
            {
                if (transition is not ("start" or "stop"))
                {
                    throw new EchoTemplateException($"{FileName}: resource \"{resource.Name}\" lists transition \"{transition}\"; use \"start\" and/or \"stop\" (nothing exists after destroy).");
                }
            }
        }
    }
}

/// <summary>A declared variable; it is required when it has no default.</summary>
internal sealed record EchoVariable(string Name, string? Type, string? Description, string? Default, bool Sensitive);

/// <summary>A log line emitted at plan time; <c>${var.NAME}</c> and <c>${workspace.name|owner|transition}</c> are replaced.</summary>
internal sealed record EchoLogLine(string? Level, string Output);

/// <summary>A resource reported for the transitions it lists (both start and stop when none); its metadata values are substituted like logs.</summary>
internal sealed record EchoResource(string Name, string Type, IReadOnlyList<string>? Transitions, IReadOnlyDictionary<string, string>? Metadata);
