namespace Provisioning.Coordinator.Tests.Cli;

/// <summary>What one run of the CLI printed and how it ended.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
