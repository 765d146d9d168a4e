namespace Provisioning.FaultInjection.Checks;

/// <summary>One broken invariant, with the evidence that shows it.</summary>
internal sealed record Violation(int Round, string Fault, string Invariant, string Evidence)
{
    public override string ToString() => $"round {Round} ({Fault}) [{Invariant}] {Evidence}";
}
