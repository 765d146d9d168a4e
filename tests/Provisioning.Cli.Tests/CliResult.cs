namespace Provisioning.Cli.Tests;

/// <summary>What one run of the CLI printed and how it ended.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
