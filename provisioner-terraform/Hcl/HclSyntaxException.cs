namespace Provisioning.Terraform.Hcl;

/// <summary>
/// A Terraform file of the root module could not be read: bad HCL or JSON syntax, or a construct
/// Terraform itself refuses (such as a reference in a variable's default). The message starts with
/// <c>file:line,column:</c> so a template author can go straight to the problem.
/// </summary>
public sealed class HclSyntaxException : Exception
{
    public HclSyntaxException(string filePath, int line, int column, string detail)
        : base($"{filePath}:{line},{column}: {detail}")
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        Detail = detail;
    }

    public HclSyntaxException(string filePath, int line, int column, string detail, Exception innerException)
        : base($"{filePath}:{line},{column}: {detail}", innerException)
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// <summary>The file name relative to the module directory, as the template author knows it.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line of the problem.</summary>
    public int Line { get; }

    /// <summary>The 1-based column (in UTF-16 characters) of the problem.</summary>
    public int Column { get; }

    /// <summary>The message without its location prefix.</summary>
    public string Detail { get; }
}
