using System.Formats.Tar;
using System.Text;

using Npgsql;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Files;
using Provisioning.Coordinator.Jobs;
using Provisioning.Sdk.Hcl;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Workspaces;

/// <summary>
/// The tags a template version's import job is routed by, as Coder sets them at push: the template's
/// <c>coder_workspace_tags</c> evaluated statically — each variable by the value given with the push, else its default;
/// each <c>coder_parameter</c> by its default — under the tags given with the push, which win on the same key (a tag the
/// push gives is not evaluated at all). So the import runs on a daemon that can also run the workspaces of the defaults
/// (docs/decisions/0016-workspace-tag-evaluation-and-routing.md, "Import routing"). Builds and dry runs evaluate the same
/// expressions again with their own values (<see cref="TemplateVersionInputs.ResolveTagsAsync"/>).
/// </summary>
/// <remarks>
/// Only the root module's <c>.tf</c> files are read, with Terraform's override files applied last. A tag whose value is
/// not known at push (a parameter without a default, a variable without a value or default) or that cannot be evaluated
/// is refused with a 400 naming it, as Coder refuses it; the push then changes nothing. A module this reader cannot read
/// (HCL it cannot parse, a <c>.tf.json</c> file, a tag key set twice) is left to the import, which reports the problem in
/// its log as before: its import is routed by the pushed tags alone.
/// </remarks>
internal static class ImportTags
{
    /// <summary>The provisioner whose templates are Terraform modules, the only ones with <c>coder_workspace_tags</c>.</summary>
    private const string TerraformProvisioner = "terraform";

    /// <summary>The import's tags for a push of <paramref name="fileHash"/>; only Terraform templates have workspace tags.</summary>
    public static async Task<SortedDictionary<string, string>> ResolveAsync(
        NpgsqlConnection connection,
        string provisioner,
        string fileHash,
        IReadOnlyDictionary<string, string> pushedTags,
        IReadOnlyList<VariableValue> givenVariables,
        CancellationToken cancellationToken)
    {
        if (provisioner != TerraformProvisioner)
        {
            return ProvisionerTags.Canonicalize(pushedTags);
        }

        IReadOnlyList<ModuleFile> files;
        try
        {
            await using var archive = FileStore.OpenRead(connection, null, fileHash, cancellationToken);
            files = await ReadRootModuleAsync(archive, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is InvalidDataException or FormatException)
        {
            files = []; // Not a tar archive the import could read either: its job fails with the reason, routed by the pushed tags.
        }

        return Resolve(files, pushedTags, givenVariables.ToDictionary(variable => variable.Name, variable => variable.Value, StringComparer.Ordinal));
    }

    /// <summary>The root module's Terraform files (<c>*.tf</c>, <c>*.tf.json</c>) of a template archive, in name order.</summary>
    public static async Task<IReadOnlyList<ModuleFile>> ReadRootModuleAsync(Stream archive, CancellationToken cancellationToken)
    {
        var files = new List<ModuleFile>();
        var reader = new TarReader(archive, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || name.Contains('/', StringComparison.Ordinal)
                    || !(name.EndsWith(".tf", StringComparison.Ordinal) || name.EndsWith(".tf.json", StringComparison.Ordinal))
                    || name.StartsWith('.') || entry.DataStream is null)
                {
                    continue;
                }

                using var text = new StreamReader(entry.DataStream, Encoding.UTF8, leaveOpen: true);
                files.Add(new ModuleFile(name, await text.ReadToEndAsync(cancellationToken).ConfigureAwait(false)));
            }
        }

        return [.. files.OrderBy(file => file.Name, StringComparer.Ordinal)];
    }

    /// <summary>The import's tags from the module's files (pure logic); 400 naming <c>workspace_tags.&lt;key&gt;</c> for a tag that cannot be evaluated.</summary>
    public static SortedDictionary<string, string> Resolve(
        IReadOnlyList<ModuleFile> files, IReadOnlyDictionary<string, string> pushedTags, IReadOnlyDictionary<string, string> givenVariables)
    {
        ArgumentNullException.ThrowIfNull(pushedTags);
        var module = StaticModule.Read(files);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (module is not null)
        {
            foreach (var (key, value) in module.Evaluate(pushedTags, givenVariables))
            {
                tags[key] = value;
            }
        }

        foreach (var (key, value) in pushedTags)
        {
            tags[key] = value;
        }

        try
        {
            return ProvisionerTags.Canonicalize(tags);
        }
        catch (ArgumentException exception)
        {
            throw ApiProblemException.Invalid("workspace_tags",
                $"The template's workspace tags evaluate at push to {System.Text.Json.JsonSerializer.Serialize(tags)}, which cannot route its import: {exception.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    /// <summary>What static evaluation needs of a root module: variables' and parameters' defaults, and the tags' expressions.</summary>
    private sealed class StaticModule
    {
        /// <summary>Declared variables by name, with their default (null: none).</summary>
        private readonly Dictionary<string, HclExpression?> _variables = new(StringComparer.Ordinal);

        /// <summary><c>coder_parameter</c> data sources by label (what <c>data.coder_parameter.LABEL.value</c> names), with their default.</summary>
        private readonly Dictionary<string, HclExpression?> _parameters = new(StringComparer.Ordinal);

        /// <summary><c>coder_workspace_tags</c> blocks by label: each tag's key, expression and its text.</summary>
        private readonly Dictionary<string, List<(string Key, HclExpression Expression, string Text)>> _tagBlocks = new(StringComparer.Ordinal);

        /// <summary>The module, or null when it cannot be read statically (the import will say why, or does not care).</summary>
        public static StaticModule? Read(IReadOnlyList<ModuleFile> files)
        {
            if (files.Any(file => file.Name.EndsWith(".tf.json", StringComparison.Ordinal)))
            {
                return null;
            }

            var module = new StaticModule();
            try
            {
                foreach (var file in files.Where(file => !IsOverride(file.Name)).Concat(files.Where(file => IsOverride(file.Name))))
                {
                    module.Add(HclParser.Parse(file.Source, file.Name), IsOverride(file.Name));
                }
            }
            catch (HclSyntaxException)
            {
                return null;
            }

            var keys = module._tagBlocks.Values.SelectMany(block => block.Select(tag => tag.Key)).ToList();
            return keys.Count == keys.Distinct(StringComparer.Ordinal).Count() ? module : null;
        }

        public Dictionary<string, string> Evaluate(IReadOnlyDictionary<string, string> pushedTags, IReadOnlyDictionary<string, string> givenVariables)
        {
            var empty = new Dictionary<string, string>(StringComparer.Ordinal);
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, fallback) in _variables)
            {
                if (givenVariables.TryGetValue(name, out var given))
                {
                    variables[name] = given;
                }
                else if (fallback is not null && TryText(fallback, empty, empty) is { } value)
                {
                    variables[name] = value;
                }
            }

            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (label, fallback) in _parameters)
            {
                if (fallback is not null && TryText(fallback, empty, variables) is { } value)
                {
                    parameters[label] = value;
                }
            }

            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, expression, text) in _tagBlocks.Values.SelectMany(block => block).OrderBy(tag => tag.Key, StringComparer.Ordinal))
            {
                if (pushedTags.ContainsKey(key))
                {
                    continue; // The push gives this tag: it is not evaluated (nothing it uses needs to be known).
                }

                try
                {
                    if (Unknown(expression, variables, parameters) is { } unknown)
                    {
                        throw new WorkspaceTagException(unknown);
                    }

                    tags[key] = WorkspaceTagEvaluator.EvaluateText(expression, parameters, variables);
                }
                catch (WorkspaceTagException exception)
                {
                    throw ApiProblemException.Invalid($"workspace_tags.{key}",
                        $"Workspace tag \"{key}\" = {text} cannot be evaluated when the template is pushed, where it routes the template's import: {exception.Message}. "
                        + $"Give what it uses a default, or give the tag with the push (provisioner_tags; --provisioner-tag {key}=VALUE).");
                }
            }

            return tags;
        }

        private static string? TryText(HclExpression expression, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> variables)
        {
            try
            {
                return WorkspaceTagEvaluator.EvaluateText(expression, parameters, variables);
            }
            catch (WorkspaceTagException)
            {
                return null; // Not a value known at push (e.g. a list, or a reference): unknown, which matters only if a tag uses it.
            }
        }

        /// <summary>Why the expression's value is not known at push: the first declared variable or parameter it uses that has no value here.</summary>
        private string? Unknown(HclExpression expression, Dictionary<string, string> variables, Dictionary<string, string> parameters) => expression switch
        {
            HclGetAttributeExpression { Source: HclVariableExpression { Name: "var" }, Name: var name } when _variables.ContainsKey(name) && !variables.ContainsKey(name) =>
                _variables[name] is null
                    ? $"var.{name} has no default and no value was given with the push"
                    : $"the default of var.{name} is not a string, number or bool",
            HclGetAttributeExpression { Source: HclGetAttributeExpression { Source: HclVariableExpression { Name: "data" }, Name: "coder_parameter" }, Name: var label }
                when _parameters.ContainsKey(label) && !parameters.ContainsKey(label) =>
                _parameters[label] is null
                    ? $"the parameter data.coder_parameter.{label} has no default (a build gets its value from the workspace; the import has none)"
                    : $"the default of data.coder_parameter.{label} is not a string, number or bool known at push",
            _ => Children(expression).Select(child => Unknown(child, variables, parameters)).FirstOrDefault(reason => reason is not null),
        };

        private static IEnumerable<HclExpression> Children(HclExpression expression) => expression switch
        {
            HclTemplateExpression template => template.Parts.Select(part => part switch
            {
                HclTemplateInterpolationPart interpolation => interpolation.Expression,
                HclTemplateDirectivePart { Expression: { } directive } => directive,
                _ => null,
            }).OfType<HclExpression>(),
            HclFunctionCallExpression call => call.Arguments,
            HclTupleExpression tuple => tuple.Items,
            HclObjectExpression obj => obj.Items.SelectMany(item => new[] { item.Key, item.Value }),
            HclIndexExpression index => [index.Collection, index.Key],
            HclGetAttributeExpression get => [get.Source],
            HclSplatExpression splat => [splat.Source],
            HclUnaryExpression unary => [unary.Operand],
            HclBinaryExpression binary => [binary.Left, binary.Right],
            HclConditionalExpression conditional => [conditional.Condition, conditional.TrueResult, conditional.FalseResult],
            HclParenthesesExpression parentheses => [parentheses.Inner],
            _ => [],
        };

        /// <summary>Adds one file's declarations; an override file changes only the arguments it sets of blocks declared elsewhere.</summary>
        private void Add(HclFile file, bool isOverride)
        {
            foreach (var block in file.Body.Blocks)
            {
                switch (block)
                {
                    case { Type: "variable", Labels: [var name] }:
                        Declare(_variables, name, block.Body.Attribute("default")?.Expression, isOverride);
                        break;
                    case { Type: "data", Labels: ["coder_parameter", var label] }:
                        Declare(_parameters, label, block.Body.Attribute("default")?.Expression, isOverride);
                        break;
                    case { Type: "data", Labels: ["coder_workspace_tags", var label] }:
                        if (block.Body.Attribute("tags") is { } attribute)
                        {
                            _tagBlocks[label] = ReadTags(file, attribute);
                        }
                        else if (!isOverride)
                        {
                            _tagBlocks[label] = [];
                        }

                        break;
                }
            }
        }

        private static void Declare(Dictionary<string, HclExpression?> declared, string name, HclExpression? fallback, bool isOverride)
        {
            if (!isOverride || fallback is not null || !declared.ContainsKey(name))
            {
                declared[name] = fallback;
            }
        }

        private static List<(string Key, HclExpression Expression, string Text)> ReadTags(HclFile file, HclAttribute attribute)
        {
            if (attribute.Expression is not HclObjectExpression tags)
            {
                throw new HclSyntaxException(file.FilePath, attribute.Line, attribute.Column, "the tags of coder_workspace_tags are not an object");
            }

            return [.. tags.Items.Select(item => (Key(file, item.Key), item.Value, file.TextOf(item.Value)))];
        }

        private static string Key(HclFile file, HclExpression key) => key switch
        {
            HclVariableExpression name => name.Name,
            HclLiteralExpression literal => literal.Text,
            HclTemplateExpression { LiteralValue: { } text } => text,
            _ => throw new HclSyntaxException(file.FilePath, key.Range.Line, key.Range.Column, "a workspace tag's key must be a name or a literal string"),
        };

        private static bool IsOverride(string name)
        {
            var stem = name.EndsWith(".tf.json", StringComparison.Ordinal) ? name[..^".tf.json".Length] : name[..^".tf".Length];
            return stem == "override" || stem.EndsWith("_override", StringComparison.Ordinal);
        }
    }
}

/// <summary>One Terraform file of a template's root module, by its name in the archive.</summary>
internal sealed record ModuleFile(string Name, string Source);
