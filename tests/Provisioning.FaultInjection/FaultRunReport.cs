using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Faults;
using Provisioning.FaultInjection.Rounds;

namespace Provisioning.FaultInjection;

/// <summary>A whole run: its seed, its rounds, and the one summary line it ends with.</summary>
internal sealed record FaultRunReport(int Seed, IReadOnlyList<RoundReport> Rounds, TimeSpan Took)
{
    public IReadOnlyList<Violation> Violations => [.. Rounds.SelectMany(round => round.Violations)];

    public string Summary
    {
        get
        {
            var faults = string.Join(", ", Rounds.GroupBy(round => round.Fault.Kind).OrderBy(group => group.Key).Select(group => $"{FaultKinds.Name(group.Key)}×{group.Count()}"));
            var broken = string.Join(", ", Violations.GroupBy(violation => violation.Invariant).Select(group => $"{group.Key}×{group.Count()}"));
            var notes = Rounds.Sum(round => round.Notes.Count);
            return FormattableString.Invariant($"fault suite: seed {Seed}, {Rounds.Count} round(s) in {Took.TotalSeconds:0} s, faults {(faults.Length == 0 ? "none" : faults)}; ")
                + (Violations.Count == 0 ? "0 violations" : $"{Violations.Count} violation(s) in {Rounds.Count(round => round.Violations.Count > 0)} round(s): {broken}")
                + (notes == 0 ? string.Empty : $"; {notes} note(s) on resources made by a SIGKILLed daemon's job");
        }
    }
}
