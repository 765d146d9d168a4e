namespace Provisioning.Coordinator.Api.Health;

/// <summary>
/// Conditions an operator must know about that do not make the coordinator unready, listed in <c>/readyz</c> after
/// "ready" (e.g. a built-in daemon that runs templates without a sandbox). The host that finds them adds them at start.
/// </summary>
public sealed class ReadinessWarnings
{
    private readonly List<string> _warnings = [];

    /// <summary>Adds a warning, one sentence that says the risk and the fix.</summary>
    public void Add(string warning)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(warning);
        lock (_warnings)
        {
            _warnings.Add(warning.ReplaceLineEndings(" "));
        }
    }

    /// <summary>The warnings added so far.</summary>
    public IReadOnlyList<string> All
    {
        get
        {
            lock (_warnings)
            {
                return [.. _warnings];
            }
        }
    }
}
