using System.Collections.Concurrent;

using Provisioning.Coordinator.Queueing;

namespace Provisioning.Coordinator.Tests.Queueing;

public sealed class HangfireWriterTests
{
    [Fact]
    public async Task Post_ManyCallsForOneJob_RunInTheOrderMade()
    {
        var seen = new ConcurrentQueue<int>();
        using (var writer = new HangfireWriter(lanes: 4))
        {
            for (var i = 0; i < 200; i++)
            {
                var number = i;
                writer.Post("42", () => seen.Enqueue(number));
            }

            Assert.Equal(199, await writer.RunAsync("42", () => seen.Last()).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        }

        Assert.Equal(Enumerable.Range(0, 200), seen);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_TheCallerGetsTheExceptionAndTheLaneGoesOn()
    {
        using var writer = new HangfireWriter(lanes: 1);

        var failed = writer.RunAsync<int>("1", () => throw new InvalidOperationException("storage down"));
        var next = writer.RunAsync("1", () => 7);

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal("storage down", exception.Message);
        Assert.Equal(7, await next.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Dispose_WithPostedWork_FinishesItFirst()
    {
        var ran = 0;
        var writer = new HangfireWriter(lanes: 2);
        for (var i = 0; i < 50; i++)
        {
            writer.Post(i.ToString(System.Globalization.CultureInfo.InvariantCulture), () => Interlocked.Increment(ref ran));
        }

        writer.Dispose();

        Assert.Equal(50, ran);
    }
}
