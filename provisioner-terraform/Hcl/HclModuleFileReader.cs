namespace Provisioning.Terraform.Hcl;

/// <summary>Extracts variables and workspace tags from one file in HCL native syntax.</summary>
internal static class HclModuleFileReader
{
    public static TerraformModuleContents Read(string source, string filePath)
    {
        var file = HclParser.Parse(source, filePath);
        var variables = new List<VariableAttributes>();
        var tags = new List<WorkspaceTagsBlock>();
        foreach (var block in file.Body.Blocks)
        {
            switch (block.Type)
            {
                case "variable":
                    variables.Add(ReadVariable(file, block));
                    break;
                case "data" when block.Labels is ["coder_workspace_tags", var name]:
                    tags.Add(ReadWorkspaceTags(file, block, name));
                    break;
            }
        }

        return new TerraformModuleContents(variables, tags);
    }

    private static VariableAttributes ReadVariable(HclFile file, HclBlock block)
    {
        if (block.Labels is not [var name])
        {
            throw new HclSyntaxException(file.FilePath, block.Line, block.Column,
                $"a variable block needs exactly one label, its name, as in variable \"region\" {{ ... }}; this one has {block.Labels.Count}");
        }

        var body = block.Body;
        var type = body.Attribute("type");
        var description = body.Attribute("description");
        var defaultValue = body.Attribute("default");
        return new VariableAttributes(
            name,
            file.FilePath,
            block.Line,
            HasType: type is not null,
            Type: type is null ? null : file.TextOf(type.Expression),
            Description: description is null ? null : ReadString(file, description, $"the description of variable \"{name}\""),
            HasDefault: defaultValue is not null,
            DefaultJson: defaultValue is null ? null : HclJsonConverter.ToJson(defaultValue.Expression, file.FilePath, $"the default of variable \"{name}\""),
            Sensitive: ReadBool(file, body.Attribute("sensitive"), name),
            Nullable: ReadBool(file, body.Attribute("nullable"), name));
    }

    private static string ReadString(HclFile file, HclAttribute attribute, string describe) =>
        attribute.Expression is HclTemplateExpression template
            ? HclJsonConverter.LiteralString(template, file.FilePath, describe)
            : throw new HclSyntaxException(file.FilePath, attribute.Expression.Range.Line, attribute.Expression.Range.Column,
                $"{describe} must be a literal string in double quotes");

    private static bool? ReadBool(HclFile file, HclAttribute? attribute, string variable) => attribute?.Expression switch
    {
        null => null,
        HclLiteralExpression { Kind: HclLiteralKind.True } => true,
        HclLiteralExpression { Kind: HclLiteralKind.False } => false,
        var other => throw new HclSyntaxException(file.FilePath, other.Range.Line, other.Range.Column,
            $"\"{attribute.Name}\" of variable \"{variable}\" must be true or false"),
    };

    private static WorkspaceTagsBlock ReadWorkspaceTags(HclFile file, HclBlock block, string name)
    {
        var attribute = block.Body.Attribute("tags");
        if (attribute is null)
        {
            return new WorkspaceTagsBlock(name, [], file.FilePath, block.Line);
        }

        if (attribute.Expression is not HclObjectExpression tags)
        {
            throw new HclSyntaxException(file.FilePath, attribute.Expression.Range.Line, attribute.Expression.Range.Column,
                $"the tags of data \"coder_workspace_tags\" \"{name}\" must be written as an object, as in tags = {{ region = \"eu\" }}");
        }

        var describe = $"the tags of data \"coder_workspace_tags\" \"{name}\"";
        var result = tags.Items
            .Select(item => new WorkspaceTag(
                HclJsonConverter.ObjectKey(item.Key, file.FilePath, describe),
                file.TextOf(item.Value),
                file.FilePath,
                item.Key.Range.Line,
                item.Key.Range.Column))
            .ToList();
        return new WorkspaceTagsBlock(name, result, file.FilePath, block.Line);
    }
}
