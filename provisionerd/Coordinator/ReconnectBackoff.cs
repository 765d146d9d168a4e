namespace Provisioning.Daemon.Coordinator;

/// <summary>
/// Exponential backoff with jitter: attempt n waits a random time in [d/2, d] where
/// d = min(max, initial * 2^n). The jitter spreads a fleet's reconnections after a coordinator
/// restart; the lower bound keeps a single daemon from hammering it.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan initial, TimeSpan max, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    /// <summary>How many delays were handed out since the last success.</summary>
    public int Attempt => Volatile.Read(ref _attempt);

    /// <summary>The ceiling of the next delay, before jitter.</summary>
    public TimeSpan Ceiling(int attempt)
    {
        // 2^30 already exceeds any cap we accept; stop doubling there so the arithmetic cannot overflow.
        var factor = Math.Pow(2, Math.Min(attempt, 30));
        var ticks = Math.Min(max.Ticks, initial.Ticks * factor);
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The next delay; each call counts as one more failed attempt.</summary>
    public TimeSpan NextDelay()
    {
        var attempt = Interlocked.Increment(ref _attempt) - 1;
        var ceiling = Ceiling(attempt);
        var half = ceiling.Ticks / 2;
        return TimeSpan.FromTicks(half + (long)(_random.NextDouble() * (ceiling.Ticks - half)));
    }

    /// <summary>Starts over after a success.</summary>
    public void Reset() => Volatile.Write(ref _attempt, 0);

    /// <summary>Waits the next delay.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => Task.Delay(NextDelay(), cancellationToken);
}
