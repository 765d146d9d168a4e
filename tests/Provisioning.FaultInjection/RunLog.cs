using System.Diagnostics;
using System.Globalization;

namespace Provisioning.FaultInjection;

/// <summary>The run's printed record: one line per event, prefixed with the time since the run began; safe from any thread.</summary>
internal sealed class RunLog(Action<string> sink)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Write(string message)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,7:0.0}s] {message}");
        lock (_gate)
        {
            sink(line);
        }
    }
}
