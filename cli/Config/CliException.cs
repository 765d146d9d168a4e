namespace Provisioning.Cli.Config;

/// <summary>A failure the CLI reports on one line (what went wrong and what to do), exiting with <see cref="ExitCode"/>.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CliException(string message, int exitCode)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; } = 1;
}
