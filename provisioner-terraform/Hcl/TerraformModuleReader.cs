using Provisioning.Sdk.Hcl;


namespace Provisioning.Terraform.Hcl;

/// <summary>
/// Reads what parse time needs from a root module without running Terraform: the <c>.tf</c> and
/// <c>.tf.json</c> files directly in one directory (not subdirectories), in ordinal name order, as
/// Terraform loads them. Override files (<c>override.tf</c>, <c>*_override.tf</c> and their JSON
/// forms) are applied after the others, changing only the arguments they set.
/// </summary>
public sealed class TerraformModuleReader
{
    /// <summary>Names Terraform reserves because they mean something else in a module block.</summary>
    private static readonly HashSet<string> ReservedVariableNames =
        new(["count", "depends_on", "for_each", "lifecycle", "locals", "providers", "source", "version"], StringComparer.Ordinal);

    /// <summary>Reads the root module in <paramref name="directory"/>.</summary>
    /// <exception cref="HclSyntaxException">A file has bad syntax, or declares something Terraform would refuse.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public TerraformModuleDefinition ReadDirectory(string directory, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The template directory '{directory}' does not exist; pass the folder that holds the template's .tf files.");
        }

        var files = Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(IsConfigurationFile)
            .Order(StringComparer.Ordinal)
            .ToList();

        var variables = new List<VariableAttributes>();
        var variablesByName = new Dictionary<string, int>(StringComparer.Ordinal);
        var tagBlocks = new List<WorkspaceTagsBlock>();
        foreach (var name in files.Where(name => !IsOverrideFile(name)).Concat(files.Where(IsOverrideFile)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var source = File.ReadAllText(Path.Combine(directory, name));
            var contents = name.EndsWith(".tf.json", StringComparison.Ordinal)
                ? JsonModuleFileReader.Read(source, name)
                : HclModuleFileReader.Read(source, name);

            if (IsOverrideFile(name))
            {
                ApplyOverrides(contents, variables, variablesByName, tagBlocks);
                continue;
            }

            foreach (var variable in contents.Variables)
            {
                ValidateName(variable);
                if (variablesByName.TryGetValue(variable.Name, out var index))
                {
                    var first = variables[index];
                    throw new HclSyntaxException(variable.FilePath, variable.Line, variable.Column,
                        $"duplicate variable \"{variable.Name}\": it is already declared at {first.FilePath}:{first.Line}; rename or remove one of them");
                }

                variablesByName.Add(variable.Name, variables.Count);
                variables.Add(variable);
            }

            tagBlocks.AddRange(contents.WorkspaceTags);
        }

        return new TerraformModuleDefinition(
            variables.Select(variable => variable.ToDefinition()).ToList(),
            MergeTags(tagBlocks));
    }

    /// <summary>Terraform refuses these names at plan time; saying so at import is kinder.</summary>
    private static void ValidateName(VariableAttributes variable)
    {
        var name = variable.Name;
        if (name.Length == 0 || !HclLexer.IsIdentifierStart(name[0]) || !name.All(HclLexer.IsIdentifierPart))
        {
            throw new HclSyntaxException(variable.FilePath, variable.Line, variable.Column,
                $"invalid variable name \"{name}\": a name must start with a letter or underscore and contain only letters, digits, underscores and dashes");
        }

        if (ReservedVariableNames.Contains(name))
        {
            throw new HclSyntaxException(variable.FilePath, variable.Line, variable.Column,
                $"invalid variable name \"{name}\": it is reserved because it means something else in a module block; choose another name");
        }
    }

    private static void ApplyOverrides(
        TerraformModuleContents contents,
        List<VariableAttributes> variables,
        Dictionary<string, int> variablesByName,
        List<WorkspaceTagsBlock> tagBlocks)
    {
        foreach (var variable in contents.Variables)
        {
            if (!variablesByName.TryGetValue(variable.Name, out var index))
            {
                throw new HclSyntaxException(variable.FilePath, variable.Line, variable.Column,
                    $"the override file declares variable \"{variable.Name}\", which no other file declares; an override can only change an existing variable");
            }

            variables[index] = variables[index].OverriddenBy(variable);
        }

        foreach (var block in contents.WorkspaceTags)
        {
            var index = tagBlocks.FindIndex(existing => existing.Name == block.Name);
            if (index < 0)
            {
                throw new HclSyntaxException(block.FilePath, block.Line, 1,
                    $"the override file declares data \"coder_workspace_tags\" \"{block.Name}\", which no other file declares; an override can only change an existing block");
            }

            // Terraform replaces an overridden argument whole: the override's tags replace the block's.
            tagBlocks[index] = block;
        }
    }

    private static Dictionary<string, string> MergeTags(List<WorkspaceTagsBlock> blocks)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var origins = new Dictionary<string, WorkspaceTag>(StringComparer.Ordinal);
        foreach (var tag in blocks.SelectMany(block => block.Tags))
        {
            if (origins.TryGetValue(tag.Key, out var first))
            {
                throw new HclSyntaxException(tag.FilePath, tag.Line, tag.Column,
                    $"duplicate workspace tag \"{tag.Key}\": it is already set at {first.FilePath}:{first.Line}; each tag key may be set only once across coder_workspace_tags blocks");
            }

            origins.Add(tag.Key, tag);
            tags.Add(tag.Key, tag.ExpressionText);
        }

        return tags;
    }

    /// <summary>Terraform's rule: .tf and .tf.json files, except editor leftovers and hidden files.</summary>
    private static bool IsConfigurationFile(string name) =>
        (name.EndsWith(".tf", StringComparison.Ordinal) || name.EndsWith(".tf.json", StringComparison.Ordinal))
        && !name.StartsWith('.')
        && !name.EndsWith('~')
        && !(name.StartsWith('#') && name.EndsWith('#'));

    private static bool IsOverrideFile(string name)
    {
        var stem = name.EndsWith(".tf.json", StringComparison.Ordinal) ? name[..^".tf.json".Length] : name[..^".tf".Length];
        return stem == "override" || stem.EndsWith("_override", StringComparison.Ordinal);
    }
}
