namespace Provisioning.FaultInjection.Checks;

/// <summary>
/// What a check found: violations (the run fails) and notes (printed and counted, not failures: resources made by the
/// job a SIGKILLed daemon was running, which no state the coordinator has can name; see the README).
/// </summary>
internal sealed record CheckResult(IReadOnlyList<Violation> Violations, IReadOnlyList<string> Notes)
{
    public static readonly CheckResult None = new([], []);
}
