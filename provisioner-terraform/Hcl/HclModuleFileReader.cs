using Provisioning.Sdk.Hcl;


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
        var nullable = ReadBool(file, body.Attribute("nullable"), name);
        if (type is not null)
        {
            HclTypeConstraint.Validate(type.Expression, file.FilePath, name);
        }

        if (nullable == false && defaultValue?.Expression is HclLiteralExpression { Kind: HclLiteralKind.Null } nullDefault)
        {
            throw new HclSyntaxException(file.FilePath, nullDefault.Range.Line, nullDefault.Range.Column,
                $"variable \"{name}\" has nullable = false, so its default cannot be null; remove the default to make it required, or give a value");
        }

        var defaultJson = defaultValue is null ? null : HclJsonConverter.ToJson(defaultValue.Expression, file.FilePath, $"the default of variable \"{name}\"");
        if (type is not null && defaultJson is not null && HclDefaultConformance.Problem(type.Expression, defaultJson) is { } problem)
        {
            throw new HclSyntaxException(file.FilePath, defaultValue!.Expression.Range.Line, defaultValue.Expression.Range.Column,
                $"the default of variable \"{name}\" does not match its type {file.TextOf(type.Expression)}: {problem}");
        }

        return new VariableAttributes(
            name,
            file.FilePath,
            block.Line,
            block.Column,
            HasType: type is not null,
            Type: type is null ? null : file.TextOf(type.Expression),
            Description: description is null ? null : ReadString(file, description, $"the description of variable \"{name}\""),
            HasDefault: defaultValue is not null,
            DefaultJson: defaultJson,
            Sensitive: ReadBool(file, body.Attribute("sensitive"), name),
            Nullable: nullable);
    }

    /// <summary>Like Terraform, a number or bool given as the description becomes its text.</summary>
    private static string ReadString(HclFile file, HclAttribute attribute, string describe) => attribute.Expression switch
    {
        HclTemplateExpression template => HclJsonConverter.LiteralString(template, file.FilePath, describe),
        HclLiteralExpression { Kind: HclLiteralKind.Number } number => HclJsonConverter.NormaliseNumber(number.Text, negate: false),
        HclLiteralExpression { Kind: HclLiteralKind.True or HclLiteralKind.False } flag => flag.Text,
        var other => throw new HclSyntaxException(file.FilePath, other.Range.Line, other.Range.Column,
            $"{describe} must be a literal string in double quotes"),
    };

    /// <summary>Like Terraform, the strings "true", "false", "1" and "0" are accepted as bools.</summary>
    private static bool? ReadBool(HclFile file, HclAttribute? attribute, string variable) => attribute?.Expression switch
    {
        null => null,
        HclLiteralExpression { Kind: HclLiteralKind.True } => true,
        HclLiteralExpression { Kind: HclLiteralKind.False } => false,
        HclTemplateExpression { LiteralValue: "true" or "1" } => true,
        HclTemplateExpression { LiteralValue: "false" or "0" } => false,
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
