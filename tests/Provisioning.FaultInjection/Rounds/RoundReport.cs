using Provisioning.FaultInjection.Checks;
using Provisioning.FaultInjection.Faults;

namespace Provisioning.FaultInjection.Rounds;

/// <summary>One round's record: its fault, its builds, the violations found and the notes printed.</summary>
internal sealed record RoundReport(int Round, FaultRecord Fault, IReadOnlyList<BuildOutcome> Builds, IReadOnlyList<Violation> Violations, IReadOnlyList<string> Notes, TimeSpan Took);
