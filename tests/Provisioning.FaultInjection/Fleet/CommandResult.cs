namespace Provisioning.FaultInjection.Fleet;

/// <summary>How a short command ended and what it printed.</summary>
internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => (Stdout + Stderr).Trim();
}
