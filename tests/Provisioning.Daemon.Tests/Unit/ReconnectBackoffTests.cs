using Provisioning.Daemon.Coordinator;

namespace Provisioning.Daemon.Tests.Unit;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void NextDelay_EachAttempt_IsBetweenHalfAndAllOfTheDoubledCeiling()
    {
        var initial = TimeSpan.FromMilliseconds(100);
        var max = TimeSpan.FromSeconds(5);
        for (var seed = 0; seed < 50; seed++)
        {
            var backoff = new ReconnectBackoff(initial, max, new Random(seed));
            for (var attempt = 0; attempt < 12; attempt++)
            {
                var ceiling = TimeSpan.FromTicks(Math.Min(max.Ticks, initial.Ticks << attempt));
                var delay = backoff.NextDelay();
                Assert.InRange(delay, ceiling / 2, ceiling);
            }
        }
    }

    [Fact]
    public void NextDelay_ManyAttempts_NeverExceedsTheCap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(7));
        for (var attempt = 0; attempt < 200; attempt++)
        {
            Assert.InRange(backoff.NextDelay(), TimeSpan.Zero, TimeSpan.FromSeconds(30));
        }

        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Ceiling(200));
    }

    [Fact]
    public void NextDelay_SameAttemptDifferentDaemons_AreSpreadByJitter()
    {
        var delays = Enumerable.Range(0, 20)
            .Select(seed => new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(seed)))
            .Select(backoff =>
            {
                backoff.NextDelay();
                backoff.NextDelay();
                return backoff.NextDelay();
            })
            .ToHashSet();

        Assert.True(delays.Count > 10, $"only {delays.Count} distinct delays");
    }

    [Fact]
    public void Reset_AfterFailures_StartsAgainFromTheInitialDelay()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(1));
        for (var i = 0; i < 8; i++)
        {
            backoff.NextDelay();
        }

        backoff.Reset();

        Assert.Equal(0, backoff.Attempt);
        Assert.InRange(backoff.NextDelay(), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100));
    }
}
