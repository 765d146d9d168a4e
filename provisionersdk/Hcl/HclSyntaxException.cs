namespace Provisioning.Sdk.Hcl;

/// <summary>
/// HCL text could not be read (a Terraform file of the root module, or a workspace tag's expression): bad HCL or JSON syntax, or a construct
/// Terraform itself refuses (such as a reference in a variable's default). The message starts with
/// <c>file:line,column:</c> so a template author can go straight to the problem.
/// </summary>
public sealed class HclSyntaxException : Exception
{
    /// <summary>A problem at <paramref name="line"/>, <paramref name="column"/> of <paramref name="filePath"/>, described by <paramref name="detail"/>.</summary>
    public HclSyntaxException(string filePath, int line, int column, string detail)
        : base($"{filePath}:{line},{column}: {detail}")
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// <summary>Like the constructor without <paramref name="innerException"/>, keeping the cause.</summary>
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
