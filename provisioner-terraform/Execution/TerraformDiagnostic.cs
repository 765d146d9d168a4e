namespace Provisioning.Terraform.Execution;

/// <summary>An error or warning Terraform reported, with where in the template it points.</summary>
internal sealed record TerraformDiagnostic(bool IsError, string Summary, string Detail, string? FileName, int? Line)
{
    /// <summary>One line for an error message: "main.tf:2: Invalid expression: Expected ...".</summary>
    public string OneLine()
    {
        var where = FileName is null ? "" : Line is { } line ? $"{FileName}:{line}: " : $"{FileName}: ";
        var detail = string.IsNullOrWhiteSpace(Detail) ? "" : ": " + Detail.ReplaceLineEndings(" ").Trim();
        return where + Summary.ReplaceLineEndings(" ").Trim() + detail;
    }
}
