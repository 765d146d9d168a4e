using Google.Protobuf.WellKnownTypes;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// Collects the timings of one request: one per stage command, and one per resource action that
/// Terraform reported with a start and an end (apply, provisioner, refresh).
/// </summary>
internal sealed class TerraformTimings
{
    private readonly Lock _lock = new();
    private readonly List<Timing> _finished = [];
    private readonly Dictionary<(string Key, string Resource), Timing> _open = [];

    public void Start(string key, string stage, string action, string source, string resource, DateTimeOffset at)
    {
        lock (_lock)
        {
            _open[(key, resource)] = new Timing
            {
                Start = Timestamp.FromDateTimeOffset(at),
                Action = action,
                Source = source,
                Resource = resource,
                Stage = stage,
                State = TimingState.Started,
            };
        }
    }

    public void End(string key, string resource, bool succeeded, DateTimeOffset at)
    {
        lock (_lock)
        {
            if (!_open.Remove((key, resource), out var timing))
            {
                return;
            }

            timing.End = Timestamp.FromDateTimeOffset(at);
            timing.State = succeeded ? TimingState.Completed : TimingState.Failed;
            _finished.Add(timing);
        }
    }

    public void Add(Timing timing)
    {
        ArgumentNullException.ThrowIfNull(timing);
        lock (_lock)
        {
            _finished.Add(timing);
        }
    }

    /// <summary>Finished timings in order of completion, then any still open (e.g. interrupted) as STARTED.</summary>
    public IReadOnlyList<Timing> ToList()
    {
        lock (_lock)
        {
            return [.. _finished, .. _open.Values];
        }
    }
}
