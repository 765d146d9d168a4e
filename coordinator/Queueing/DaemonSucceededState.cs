using System.Globalization;

using Hangfire.States;

namespace Provisioning.Coordinator.Queueing;

/// <summary>Hangfire's Succeeded state for a job a daemon completed (no Hangfire worker performed it).</summary>
internal sealed class DaemonSucceededState(TimeSpan duration) : IState
{
    public string Name => SucceededState.StateName;

    public string Reason => "Completed by its daemon";

    public bool IsFinal => true;

    public bool IgnoreJobLoadException => true;

    public Dictionary<string, string> SerializeData() => new()
    {
        ["SucceededAt"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["PerformanceDuration"] = ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        ["Latency"] = "0",
    };
}
