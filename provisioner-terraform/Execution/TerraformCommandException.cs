namespace Provisioning.Terraform.Execution;

/// <summary>A Terraform command exited with an error; the message carries its diagnostics with file:line.</summary>
internal sealed class TerraformCommandException : Exception
{
    public TerraformCommandException(string command, int exitCode, IReadOnlyList<TerraformDiagnostic> diagnostics)
        : base(Describe(command, exitCode, diagnostics))
    {
        Command = command;
        ExitCode = exitCode;
        HasErrorDiagnostics = diagnostics.Any(diagnostic => diagnostic.IsError);
    }

    /// <summary>Whether Terraform said what went wrong; when not, the message only has the exit code.</summary>
    public bool HasErrorDiagnostics { get; }

    public string Command { get; }

    public int ExitCode { get; }

    private static string Describe(string command, int exitCode, IReadOnlyList<TerraformDiagnostic> diagnostics)
    {
        var errors = diagnostics.Where(diagnostic => diagnostic.IsError).Select(diagnostic => diagnostic.OneLine()).ToList();
        return errors.Count == 0
            ? $"terraform {command} failed with exit code {exitCode}; see the log above for its output."
            : $"terraform {command} failed: " + string.Join("; ", errors);
    }
}
