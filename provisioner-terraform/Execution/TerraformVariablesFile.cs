using System.Text.Json;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// Template variable values go to Terraform in a JSON tfvars file passed with <c>-var-file</c>: never on
/// the command line (visible in the process list) and never in a log.
/// </summary>
internal static class TerraformVariablesFile
{
    public const string FileName = "provisioning.tfvars.json";

    /// <summary>Writes the file into <paramref name="directory"/> (owner-only) and returns its path.</summary>
    public static string Write(string directory, IEnumerable<VariableValue> values)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var value in values)
            {
                writer.WritePropertyName(value.Name);
                WriteValue(writer, value.Value);
            }

            writer.WriteEndObject();
        }

        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        return path;
    }

    /// <summary>
    /// Values arrive as text. A JSON list or object is passed as such, so list(...), map(...) and object
    /// variables work; everything else is a JSON string, which Terraform converts to string, number or
    /// bool as the variable's type says.
    /// </summary>
    private static void WriteValue(Utf8JsonWriter writer, string value)
    {
        var trimmed = value.TrimStart();
        if (trimmed.StartsWith('[') || trimmed.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(value);
                document.RootElement.WriteTo(writer);
                return;
            }
            catch (JsonException)
            {
                // Not JSON after all: a string that happens to start with a bracket.
            }
        }

        writer.WriteStringValue(value);
    }
}
