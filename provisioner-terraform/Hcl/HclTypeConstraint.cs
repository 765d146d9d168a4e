using Provisioning.Sdk.Hcl;


namespace Provisioning.Terraform.Hcl;

/// <summary>
/// Checks that a variable's <c>type</c> is a type constraint Terraform understands: string, number,
/// bool, any; list/set/map(T); object({ name = T or optional(T[, default]) }); tuple([T, ...]).
/// The reader keeps the type as text, so this only refuses what Terraform would refuse anyway
/// (checked against Terraform 1.11, which for instance ignores a "..." after a type argument).
/// </summary>
internal static class HclTypeConstraint
{
    public static void Validate(HclExpression expression, string filePath, string variable) =>
        Check(expression, filePath, variable, allowOptional: false);

    private static void Check(HclExpression expression, string filePath, string variable, bool allowOptional)
    {
        switch (expression)
        {
            case HclVariableExpression { Name: "string" or "number" or "bool" or "any" }:
                return;
            case HclVariableExpression { Name: "list" or "map" }:
                // Terraform still accepts the pre-0.12 bare forms, meaning list(any) and map(any).
                return;
            case HclTemplateExpression template when template.LiteralValue is { } quoted:
                throw Invalid(expression, filePath, $"the type of variable \"{variable}\" is quoted; Terraform takes type constraints without quotes, so write {quoted} instead of \"{quoted}\"");
            case HclFunctionCallExpression { Name: "list" or "set" or "map", Arguments: [var element] }:
                Check(element, filePath, variable, allowOptional: false);
                return;
            case HclFunctionCallExpression { Name: "object", Arguments: [HclObjectExpression attributes] }:
                foreach (var item in attributes.Items)
                {
                    if (item.Key is not HclVariableExpression)
                    {
                        throw Invalid(item.Key, filePath, $"an attribute name in the object type of variable \"{variable}\" must be a bare name, without quotes or parentheses");
                    }

                    Check(item.Value, filePath, variable, allowOptional: true);
                }

                return;
            case HclFunctionCallExpression { Name: "tuple", Arguments: [HclTupleExpression elements] }:
                foreach (var element in elements.Items)
                {
                    Check(element, filePath, variable, allowOptional: false);
                }

                return;
            case HclFunctionCallExpression { Name: "optional", Arguments: [var type, ..] arguments } when allowOptional && arguments.Count <= 2:
                Check(type, filePath, variable, allowOptional: false);
                return;
            case HclFunctionCallExpression { Name: "optional" } when !allowOptional:
                throw Invalid(expression, filePath, $"optional(type) or optional(type, default) is only allowed for an attribute of an object type, in variable \"{variable}\"");
            default:
                throw Invalid(expression, filePath,
                    $"the type of variable \"{variable}\" is not a type constraint; use string, number, bool, any, list(T), set(T), map(T), object({{ name = T }}) or tuple([T, ...])");
        }
    }

    private static HclSyntaxException Invalid(HclExpression at, string filePath, string detail) =>
        new(filePath, at.Range.Line, at.Range.Column, detail);
}
