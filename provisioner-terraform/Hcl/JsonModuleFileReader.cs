using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

using Provisioning.Sdk.Hcl;

namespace Provisioning.Terraform.Hcl;

/// <summary>
/// Extracts variables and workspace tags from one file in Terraform's JSON syntax (<c>.tf.json</c>).
/// JsonDocument has no positions, so a second pass with Utf8JsonReader records the line of every
/// property for messages and for <see cref="VariableDefinition.Line"/>.
/// </summary>
internal sealed class JsonModuleFileReader
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _filePath;
    private readonly Dictionary<string, (int Line, int Column)> _positions;

    private JsonModuleFileReader(string filePath, Dictionary<string, (int Line, int Column)> positions)
    {
        _filePath = filePath;
        _positions = positions;
    }

    public static TerraformModuleContents Read(string source, string filePath)
    {
        var bytes = Encoding.UTF8.GetBytes(source);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException exception)
        {
            var line = (int)(exception.LineNumber ?? 0) + 1;
            var column = (int)(exception.BytePositionInLine ?? 0) + 1;
            throw new HclSyntaxException(filePath, line, column, $"invalid JSON: {FirstSentence(exception.Message)}", exception);
        }

        using (document)
        {
            var reader = new JsonModuleFileReader(filePath, PropertyPositions(bytes));
            return reader.ReadRoot(document.RootElement);
        }
    }

    private TerraformModuleContents ReadRoot(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new HclSyntaxException(_filePath, 1, 1, "a .tf.json file must hold one JSON object at the top level, as in { \"variable\": { ... } }");
        }

        var variables = new List<VariableAttributes>();
        var tags = new List<WorkspaceTagsBlock>();
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "variable":
                    foreach (var (name, body, path) in LabelledBodies(property.Value, ["variable"]))
                    {
                        variables.Add(ReadVariable(name, body, path));
                    }

                    break;
                case "data":
                    foreach (var (type, typeBodies, typePath) in LabelledBodies(property.Value, ["data"]))
                    {
                        if (type != "coder_workspace_tags")
                        {
                            continue;
                        }

                        foreach (var (name, body, path) in LabelledBodies(typeBodies, typePath))
                        {
                            tags.Add(ReadWorkspaceTags(name, body, path));
                        }
                    }

                    break;
            }
        }

        return new TerraformModuleContents(variables, tags);
    }

    /// <summary>
    /// A block label level: an object of label → content, or (as Terraform also accepts) an array
    /// of such objects. Content that is an array holds several bodies under one label.
    /// </summary>
    private IEnumerable<(string Label, JsonElement Content, List<string> Path)> LabelledBodies(JsonElement element, List<string> path)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                foreach (var entry in LabelledBodies(item, [.. path, index.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    yield return entry;
                }

                index++;
            }

            yield break;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, $"\"{path[^1]}\" must be a JSON object of name to body");
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Name == "//")
            {
                continue;
            }

            List<string> labelPath = [.. path, property.Name];
            if (property.Value.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var body in property.Value.EnumerateArray())
                {
                    yield return (property.Name, body, [.. labelPath, index.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    index++;
                }
            }
            else
            {
                yield return (property.Name, property.Value, labelPath);
            }
        }
    }

    private VariableAttributes ReadVariable(string name, JsonElement body, List<string> path)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, $"variable \"{name}\" must be a JSON object");
        }

        var (line, column) = Position(path);
        string? type = null, description = null, defaultJson = null;
        bool hasType = false, hasDefault = false;
        bool? sensitive = null, nullable = null;
        foreach (var property in body.EnumerateObject())
        {
            List<string> propertyPath = [.. path, property.Name];
            switch (property.Name)
            {
                case "type":
                    hasType = true;
                    type = property.Value.ValueKind == JsonValueKind.String
                        ? property.Value.GetString()
                        : throw Error(propertyPath, $"the type of variable \"{name}\" must be a string holding a type expression, as in \"list(string)\"");
                    break;
                case "description":
                    description = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Number => HclJsonConverter.NormaliseNumber(property.Value.GetRawText(), negate: false),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => throw Error(propertyPath, $"the description of variable \"{name}\" must be a string"),
                    };
                    break;
                case "default":
                    hasDefault = true;
                    defaultJson = Compact(property.Value);
                    break;
                case "sensitive":
                    sensitive = ReadBool(property, propertyPath, name);
                    break;
                case "nullable":
                    nullable = ReadBool(property, propertyPath, name);
                    break;
            }
        }

        if (type is not null)
        {
            var typeExpression = ParseType(type, [.. path, "type"], name);
            if (defaultJson is not null && HclDefaultConformance.Problem(typeExpression, defaultJson) is { } problem)
            {
                throw Error([.. path, "default"], $"the default of variable \"{name}\" does not match its type {type}: {problem}");
            }
        }

        if (nullable == false && defaultJson == "null")
        {
            throw Error([.. path, "default"], $"variable \"{name}\" has nullable = false, so its default cannot be null; remove the default to make it required, or give a value");
        }

        return new VariableAttributes(name, _filePath, line, column, hasType, type, description, hasDefault, defaultJson, sensitive, nullable);
    }

    /// <summary>In JSON the type is an expression in a string: parse it as HCL, report at the JSON property.</summary>
    private HclExpression ParseType(string type, List<string> path, string variable)
    {
        try
        {
            var parsed = HclParser.Parse($"type = {type}\n", _filePath);
            if (parsed.Body is not { Attributes: [var attribute], Blocks: [] })
            {
                throw new HclSyntaxException(_filePath, 1, 1, $"the type of variable \"{variable}\" must be a single type expression, as in \"list(string)\"");
            }

            HclTypeConstraint.Validate(attribute.Expression, _filePath, variable);
            return attribute.Expression;
        }
        catch (HclSyntaxException exception)
        {
            throw Error(path, exception.Detail);
        }
    }

    private bool ReadBool(JsonProperty property, List<string> path, string variable) => property.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when property.Value.GetString() is "true" or "1" => true,
        JsonValueKind.String when property.Value.GetString() is "false" or "0" => false,
        _ => throw Error(path, $"\"{property.Name}\" of variable \"{variable}\" must be true or false"),
    };

    private WorkspaceTagsBlock ReadWorkspaceTags(string name, JsonElement body, List<string> path)
    {
        var (blockLine, _) = Position(path);
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("tags", out var tags))
        {
            return new WorkspaceTagsBlock(name, [], _filePath, blockLine);
        }

        List<string> tagsPath = [.. path, "tags"];
        if (tags.ValueKind != JsonValueKind.Object)
        {
            throw Error(tagsPath, $"the tags of data \"coder_workspace_tags\" \"{name}\" must be a JSON object of key to value");
        }

        var result = new List<WorkspaceTag>();
        foreach (var tag in tags.EnumerateObject())
        {
            var (line, column) = Position([.. tagsPath, tag.Name]);
            var text = tag.Value.ValueKind == JsonValueKind.String
                ? JsonTemplateText.ToExpressionText(tag.Value.GetString()!)
                : Compact(tag.Value);
            result.Add(new WorkspaceTag(tag.Name, text, _filePath, line, column));
        }

        return new WorkspaceTagsBlock(name, result, _filePath, blockLine);
    }

    private static string Compact(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private (int Line, int Column) Position(List<string> path) =>
        _positions.TryGetValue(PathKey(path), out var position) ? position : (1, 1);

    private HclSyntaxException Error(List<string> path, string detail)
    {
        var (line, column) = Position(path);
        return new HclSyntaxException(_filePath, line, column, detail);
    }

    private static string PathKey(IEnumerable<string> path) => string.Join('\u001f', path);

    /// <summary>The line and column of every property name and array element, keyed by its path.</summary>
    private static Dictionary<string, (int Line, int Column)> PropertyPositions(byte[] bytes)
    {
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                lineStarts.Add(i + 1);
            }
        }

        var positions = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var path = new List<string>();
        // For each open container: is it an array, and the next element index.
        var containers = new Stack<(bool IsArray, int NextIndex)>();
        var reader = new Utf8JsonReader(bytes);
        while (reader.Read())
        {
            var offset = (int)reader.TokenStartIndex;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    path.Add(reader.GetString()!);
                    positions.TryAdd(PathKey(path), Locate(offset));
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    containers.Pop();
                    EndValue();
                    continue;
            }

            if (containers.TryPeek(out var container) && container.IsArray)
            {
                containers.Pop();
                containers.Push((true, container.NextIndex + 1));
                path.Add(container.NextIndex.ToString(System.Globalization.CultureInfo.InvariantCulture));
                positions.TryAdd(PathKey(path), Locate(offset));
            }

            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                containers.Push((reader.TokenType == JsonTokenType.StartArray, 0));
            }
            else
            {
                EndValue();
            }
        }

        return positions;

        // A value is complete: leave its property name or array index.
        void EndValue()
        {
            if (containers.Count > 0 && path.Count > 0)
            {
                path.RemoveAt(path.Count - 1);
            }
        }

        (int, int) Locate(int offset)
        {
            var index = lineStarts.BinarySearch(offset);
            var line = index >= 0 ? index : ~index - 1;
            return (line + 1, offset - lineStarts[line] + 1);
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }
}
