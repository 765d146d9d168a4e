using Provisioning.FaultInjection.Fleet;

namespace Provisioning.FaultInjection.Rounds;

/// <summary>How one build of a round went: its job as last seen, and whether that job ended within the bound.</summary>
internal sealed record BuildOutcome(string Transition, int BuildNumber, Guid JobId, JobView? Job, bool Ended, TimeSpan Took)
{
    public string Status => Job?.Status ?? "unknown";

    public override string ToString()
    {
        var error = Job?.Error is { Length: > 0 } text ? $" ({Job.ErrorCode}: {(text.Length > 160 ? text[..160] + "…" : text)})" : string.Empty;
        return $"build #{BuildNumber} {Transition}: {Status}{error} after {Took.TotalSeconds:0.0} s, job {JobId}";
    }
}
