namespace Provisioning.FaultInjection.Checks;

/// <summary>
/// What a check found: violations (the run fails) and notes (printed and counted, not failures: resources that a
/// SIGKILLed daemon's Terraform was creating when it died, which no state can name; see the README).
/// </summary>
internal sealed record CheckResult(IReadOnlyList<Violation> Violations, IReadOnlyList<string> Notes)
{
    public static readonly CheckResult None = new([], []);
}
