using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// Turns the lines of one Terraform command (<c>-json</c> machine-readable UI on stdout, plain text on
/// stderr) into job log entries, diagnostics and resource timings. One instance per command: stderr
/// keeps a little state (whether the current block is a warning or an error).
/// </summary>
internal sealed partial class TerraformJsonLogParser
{
    private readonly string _stage;
    private readonly TerraformTimings _timings;
    private readonly List<TerraformDiagnostic> _diagnostics = [];
    private LogLevel _stderrLevel = LogLevel.Error;
    private PlainDiagnostic? _plainError;

    public TerraformJsonLogParser(string stage, TerraformTimings timings)
    {
        ArgumentException.ThrowIfNullOrEmpty(stage);
        ArgumentNullException.ThrowIfNull(timings);
        _stage = stage;
        _timings = timings;
    }

    /// <summary>Diagnostics seen so far, errors and warnings, in order (from plain stderr: errors only).</summary>
    public IReadOnlyList<TerraformDiagnostic> Diagnostics => _plainError is { } pending ? [.. _diagnostics, pending.ToDiagnostic()] : _diagnostics;

    /// <summary>Parses one stdout line; a line that is not Terraform's JSON is logged as it is, at info.</summary>
    public IReadOnlyList<TerraformLogEntry> ParseStdout(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (string.IsNullOrWhiteSpace(line))
        {
            return [];
        }

        if (!line.StartsWith('{'))
        {
            return [new TerraformLogEntry(LogLevel.Info, line)];
        }

        // Most lines (progress, outputs, a local-exec's output) are read without building a document: only diagnostics
        // and the events timings are made from need one.
        if (TryReadMessage(line, out var simple))
        {
            return simple;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            return [new TerraformLogEntry(LogLevel.Info, line)];
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return [new TerraformLogEntry(LogLevel.Info, line)];
            }

            var level = ParseLevel(GetString(root, "@level"));
            var message = GetString(root, "@message") ?? "";
            var type = GetString(root, "type");
            switch (type)
            {
                case "diagnostic" when root.TryGetProperty("diagnostic", out var diagnostic):
                    return RenderDiagnostic(diagnostic);
                case "apply_start" or "apply_complete" or "apply_errored"
                    or "provision_start" or "provision_complete" or "provision_errored"
                    or "refresh_start" or "refresh_complete":
                    // The timestamp is read only where it is used, not for every line.
                    RecordTiming(type, root, ParseTimestamp(GetString(root, "@timestamp")));
                    break;
            }

            return string.IsNullOrEmpty(message) ? [] : SplitLines(level, message);
        }
    }

    /// <summary>
    /// Reads a JSON line's top-level <c>@level</c>, <c>@message</c> and <c>type</c> with a forward-only reader, as the
    /// document path would (the last definition of a property wins; a value that is not a string counts as absent), and
    /// returns its entries. False, and nothing recorded, for a line the document path must handle: a diagnostic, a timing
    /// event, or anything that is not one well-formed JSON object.
    /// </summary>
    private static bool TryReadMessage(string line, out IReadOnlyList<TerraformLogEntry> entries)
    {
        entries = [];
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(line.Length));
        try
        {
            var reader = new Utf8JsonReader(buffer.AsSpan(0, Encoding.UTF8.GetBytes(line, buffer)), isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            string? level = null;
            string? message = null;
            string? type = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.ValueTextEquals("@level"u8) ? 1 : reader.ValueTextEquals("@message"u8) ? 2 : reader.ValueTextEquals("type"u8) ? 3 : 0;
                reader.Read();
                var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }

                switch (field)
                {
                    case 1:
                        level = text;
                        break;
                    case 2:
                        message = text;
                        break;
                    case 3:
                        type = text;
                        break;
                }
            }

            // The object must have ended, with nothing but white space after it.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return false;
            }

            if (type is "diagnostic" or "apply_start" or "apply_complete" or "apply_errored"
                or "provision_start" or "provision_complete" or "provision_errored" or "refresh_start" or "refresh_complete")
            {
                return false;
            }

            entries = string.IsNullOrEmpty(message) ? [] : SplitLines(ParseLevel(level), message);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses one stderr line: Terraform writes warnings and errors there as plain text.</summary>
    public TerraformLogEntry? ParseStderr(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }

        // With TF_LOG=JSON, Terraform's internal log comes here as JSON lines with their own level.
        if (line.StartsWith("{\"@level\"", StringComparison.Ordinal) && ParseInternalLog(line) is { } internalLog)
        {
            return internalLog;
        }

        // Plain diagnostics start with "Warning:" or "Error:" (inside a box drawn with │); the lines
        // that follow belong to the same block.
        var text = line.TrimStart('│', '╷', '╵', ' ');
        if (text.StartsWith("Warning:", StringComparison.Ordinal))
        {
            FlushPlainError();
            _stderrLevel = LogLevel.Warn;
        }
        else if (text.StartsWith("Error:", StringComparison.Ordinal))
        {
            FlushPlainError();
            _stderrLevel = LogLevel.Error;
            _plainError = new PlainDiagnostic(text["Error:".Length..].Trim());
        }
        else if (_plainError is { } error && text.Length > 0)
        {
            error.Add(text);
        }

        return new TerraformLogEntry(_stderrLevel, line);
    }

    private IReadOnlyList<TerraformLogEntry> RenderDiagnostic(JsonElement diagnostic)
    {
        var severity = GetString(diagnostic, "severity");
        var isError = !string.Equals(severity, "warning", StringComparison.Ordinal);
        var level = isError ? LogLevel.Error : LogLevel.Warn;
        var summary = GetString(diagnostic, "summary") ?? "";
        var detail = GetString(diagnostic, "detail") ?? "";
        string? fileName = null;
        int? line = null;
        if (diagnostic.TryGetProperty("range", out var range) && range.ValueKind == JsonValueKind.Object)
        {
            fileName = GetString(range, "filename");
            if (range.TryGetProperty("start", out var start) && start.TryGetProperty("line", out var startLine) && startLine.TryGetInt32(out var number))
            {
                line = number;
            }
        }

        _diagnostics.Add(new TerraformDiagnostic(isError, summary, detail, fileName, line));

        var text = new StringBuilder();
        text.Append(isError ? "Error: " : "Warning: ").Append(summary).Append('\n');
        if (fileName is not null)
        {
            text.Append('\n').Append("  on ").Append(fileName);
            if (line is { } l)
            {
                text.Append(" line ").Append(l.ToString(CultureInfo.InvariantCulture));
            }

            if (diagnostic.TryGetProperty("snippet", out var snippet) && snippet.ValueKind == JsonValueKind.Object)
            {
                if (GetString(snippet, "context") is { Length: > 0 } context)
                {
                    text.Append(", in ").Append(context);
                }

                text.Append(":\n");
                var firstLine = snippet.TryGetProperty("start_line", out var sl) && sl.TryGetInt32(out var s) ? s : line ?? 1;
                var code = (GetString(snippet, "code") ?? "").Split('\n');
                for (var i = 0; i < code.Length; i++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"  {firstLine + i,4}: {code[i]}").Append('\n');
                }
            }
            else
            {
                text.Append(":\n");
            }
        }

        if (!string.IsNullOrWhiteSpace(detail))
        {
            text.Append('\n').Append(detail);
        }

        return SplitLines(level, text.ToString().TrimEnd('\n'));
    }

    private void RecordTiming(string type, JsonElement root, DateTimeOffset at)
    {
        if (!root.TryGetProperty("hook", out var hook) || !hook.TryGetProperty("resource", out var resource))
        {
            return;
        }

        var address = GetString(resource, "addr") ?? "";
        var provider = GetString(resource, "implied_provider") ?? "";
        switch (type)
        {
            case "apply_start":
                _timings.Start("apply", _stage, GetString(hook, "action") ?? "apply", provider, address, at);
                break;
            case "apply_complete" or "apply_errored":
                _timings.End("apply", address, type == "apply_complete", at);
                break;
            case "provision_start":
                var provisioner = GetString(hook, "provisioner") ?? "";
                _timings.Start("provision:" + provisioner, _stage, "provision", provisioner, address, at);
                break;
            case "provision_complete" or "provision_errored":
                _timings.End("provision:" + (GetString(hook, "provisioner") ?? ""), address, type == "provision_complete", at);
                break;
            case "refresh_start":
                _timings.Start("refresh", _stage, "state refresh", provider, address, at);
                break;
            case "refresh_complete":
                _timings.End("refresh", address, succeeded: true, at);
                break;
        }
    }

    private static TerraformLogEntry? ParseInternalLog(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object && GetString(root, "@message") is { } message
                ? new TerraformLogEntry(ParseLevel(GetString(root, "@level")), message)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void FlushPlainError()
    {
        if (_plainError is { } error)
        {
            _diagnostics.Add(error.ToDiagnostic());
            _plainError = null;
        }
    }

    private static IReadOnlyList<TerraformLogEntry> SplitLines(LogLevel level, string message) =>
        message.AsSpan().ContainsAny('\r', '\n')
            ? [.. message.ReplaceLineEndings("\n").Split('\n').Select(line => new TerraformLogEntry(level, line))]
            : [new TerraformLogEntry(level, message)];

    internal static LogLevel ParseLevel(string? level) => level switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" or "warning" => LogLevel.Warn,
        "error" => LogLevel.Error,
        _ => LogLevel.Info,
    };

    private static DateTimeOffset ParseTimestamp(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UtcNow;

    private static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>An error block of plain (non-JSON) output: "Error: summary", then "on FILE line N, …", then detail.</summary>
    private sealed partial class PlainDiagnostic(string summary)
    {
        private readonly List<string> _detail = [];
        private string? _fileName;
        private int? _line;

        public void Add(string text)
        {
            if (_fileName is null && LocationPattern().Match(text) is { Success: true } match)
            {
                _fileName = match.Groups["file"].Value;
                _line = int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture);
                return;
            }

            // Snippet lines ("  12: code") belong to the location, not the explanation.
            if (!SnippetPattern().IsMatch(text))
            {
                _detail.Add(text);
            }
        }

        public TerraformDiagnostic ToDiagnostic() => new(true, summary, string.Join(' ', _detail), _fileName, _line);

        [GeneratedRegex(@"^on (?<file>\S+) line (?<line>\d+)")]
        private static partial Regex LocationPattern();

        [GeneratedRegex(@"^\d+: ")]
        private static partial Regex SnippetPattern();
    }
}
