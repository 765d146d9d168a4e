using System.Globalization;

using Hangfire.States;

namespace Provisioning.Coordinator.Queueing;

/// <summary>
/// Hangfire's Processing state with the daemon in the place of the Hangfire server, so the dashboard shows
/// which daemon runs each job.
/// </summary>
internal sealed class DaemonProcessingState(string daemonName, Guid daemonId) : IState
{
    public string Name => ProcessingState.StateName;

    public string Reason => $"Acquired by daemon {daemonName}";

    public bool IsFinal => false;

    public bool IgnoreJobLoadException => true;

    public Dictionary<string, string> SerializeData() => new()
    {
        ["StartedAt"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["ServerId"] = daemonName,
        ["WorkerId"] = daemonId.ToString(),
    };
}
