namespace Provisioning.Bench;

/// <summary>One run's figures, with the machine's load average before and after (the machine is shared).</summary>
internal sealed record ScenarioResult(
    string Scenario,
    string StartedAt,
    string LoadBefore,
    string LoadAfter,
    IReadOnlyDictionary<string, int> Parameters,
    IReadOnlyList<Metric> Metrics);
