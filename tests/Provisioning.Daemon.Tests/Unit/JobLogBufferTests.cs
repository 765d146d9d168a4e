using Provisioning.Daemon.Jobs;
using Provisioning.Sdk.Daemon;

using ProtocolLogLevel = Provisioning.Sdk.Protocol.LogLevel;

namespace Provisioning.Daemon.Tests.Unit;

public sealed class JobLogBufferTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    [Fact]
    public void Peek_LinesBeyondTheCharacterCap_WaitForTheNextBatch()
    {
        var buffer = new JobLogBuffer(Quiet, 2000, 10_000, Heartbeat, T0);
        var big = new string('x', (JobLogBuffer.MaxBatchCharacters / 2) - 10);
        buffer.Add(Line(big), T0);
        buffer.Add(Line(big), T0);
        buffer.Add(Line(big), T0);

        var first = buffer.Peek();
        buffer.Acknowledge(first, T0);
        var second = buffer.Peek();

        Assert.Equal(2, first.Logs.Count);
        Assert.Single(second.Logs);
    }

    [Fact]
    public void Peek_OneLineLongerThanTheCap_IsSentAlone()
    {
        var buffer = new JobLogBuffer(Quiet, 2000, 10_000, Heartbeat, T0);
        buffer.Add(Line(new string('x', JobLogBuffer.MaxBatchCharacters + 1)), T0);
        buffer.Add(Line("after"), T0);

        var batch = buffer.Peek();

        Assert.Single(batch.Logs);
    }

    [Fact]
    public void ShouldFlush_BeforeQuietPeriod_IsFalseThenTrueAfterIt()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);
        buffer.Add(Line("a"), T0);

        Assert.False(buffer.ShouldFlush(T0 + TimeSpan.FromMilliseconds(249)));
        Assert.True(buffer.ShouldFlush(T0 + Quiet));
    }

    [Fact]
    public void ShouldFlush_NewLineDuringQuietPeriod_RestartsTheWait()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);
        buffer.Add(Line("a"), T0);
        buffer.Add(Line("b"), T0 + TimeSpan.FromMilliseconds(200));

        Assert.False(buffer.ShouldFlush(T0 + TimeSpan.FromMilliseconds(300)));
        Assert.True(buffer.ShouldFlush(T0 + TimeSpan.FromMilliseconds(450)));
    }

    [Fact]
    public void Add_HundredthLine_AsksForAnImmediateFlushOfOneBatch()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);
        for (var i = 0; i < 99; i++)
        {
            Assert.False(buffer.Add(Line($"line {i}"), T0));
        }

        Assert.True(buffer.Add(Line("line 99"), T0));
        Assert.True(buffer.Add(Line("line 100"), T0));
        Assert.True(buffer.ShouldFlush(T0));

        var batch = buffer.Peek();
        Assert.Equal(100, batch.Logs.Count);
        Assert.Equal("line 0", batch.Logs[0].Output);
        buffer.Acknowledge(batch, T0);
        Assert.Equal(1, buffer.Count);
        Assert.Equal("line 100", buffer.Peek().Logs.Single().Output);
    }

    [Fact]
    public void ShouldFlush_Empty_IsFalseEvenAfterLongQuiet()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);

        Assert.False(buffer.ShouldFlush(T0 + TimeSpan.FromMinutes(1)));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void HeartbeatDue_AfterIntervalWithoutSend_IsTrueAndResetsOnAcknowledge()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);

        Assert.False(buffer.HeartbeatDue(T0 + TimeSpan.FromSeconds(4.9)));
        Assert.True(buffer.HeartbeatDue(T0 + Heartbeat));

        var sentAt = T0 + Heartbeat;
        buffer.Acknowledge(buffer.Peek(), sentAt);
        Assert.False(buffer.HeartbeatDue(sentAt + TimeSpan.FromSeconds(4.9)));
        Assert.Equal(Heartbeat, buffer.NextDeadline(sentAt));
    }

    [Fact]
    public void NextDeadline_WithLinesWaiting_IsTheEndOfTheQuietPeriod()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);
        buffer.Add(Line("a"), T0 + TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromMilliseconds(150), buffer.NextDeadline(T0 + TimeSpan.FromSeconds(1.1)));
    }

    [Fact]
    public void Reject_FailedSend_KeepsLinesInOrderForTheNextTry()
    {
        var buffer = new JobLogBuffer(Quiet, 100, 1000, Heartbeat, T0);
        buffer.Add(Line("a"), T0);
        buffer.Add(Line("b"), T0);

        var first = buffer.Peek();
        buffer.Reject(first, T0);
        buffer.Add(Line("c"), T0);
        var second = buffer.Peek();

        Assert.Equal(["a", "b", "c"], second.Logs.Select(log => log.Output));
    }

    [Fact]
    public void Add_BeyondTheBoundWhileUnreachable_DropsOldestAndReportsHowManyInOneLine()
    {
        var buffer = new JobLogBuffer(Quiet, 10, 20, Heartbeat, T0);
        buffer.MarkUnreachable();
        for (var i = 0; i < 25; i++)
        {
            buffer.Add(Line($"line {i}"), T0);
        }

        Assert.Equal(20, buffer.Count);
        Assert.Equal(5, buffer.Dropped);
        var batch = buffer.Peek();
        Assert.Equal(11, batch.Logs.Count);
        Assert.Equal(LogSource.ProvisionerDaemon, batch.Logs[0].Source);
        Assert.Equal(ProtocolLogLevel.Warn, batch.Logs[0].Level);
        Assert.StartsWith("5 log lines were dropped", batch.Logs[0].Output, StringComparison.Ordinal);
        Assert.Equal("line 5", batch.Logs[1].Output);

        buffer.Acknowledge(batch, T0);
        Assert.Equal(0, buffer.Dropped);
        var rest = buffer.Peek();
        Assert.Equal(Enumerable.Range(15, 10).Select(i => $"line {i}"), rest.Logs.Select(log => log.Output));
    }

    [Fact]
    public void Add_BeyondTheBoundWhileUnreachableAndABatchIsInFlight_CountsThoseLinesOnlyIfTheSendFails()
    {
        var delivered = new JobLogBuffer(Quiet, 10, 10, Heartbeat, T0);
        var lost = new JobLogBuffer(Quiet, 10, 10, Heartbeat, T0);
        foreach (var buffer in new[] { delivered, lost })
        {
            buffer.MarkUnreachable();
            for (var i = 0; i < 10; i++)
            {
                buffer.Add(Line($"line {i}"), T0);
            }
        }

        var deliveredBatch = delivered.Peek();
        var lostBatch = lost.Peek();
        for (var i = 10; i < 13; i++)
        {
            delivered.Add(Line($"line {i}"), T0);
            lost.Add(Line($"line {i}"), T0);
        }

        delivered.Acknowledge(deliveredBatch, T0);
        lost.Reject(lostBatch, T0);

        Assert.Equal(0, delivered.Dropped);
        Assert.Equal(["line 10", "line 11", "line 12"], delivered.Peek().Logs.Select(log => log.Output));
        Assert.Equal(3, lost.Dropped);
        Assert.StartsWith("3 log lines were dropped", lost.Peek().Logs[0].Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_BeyondTheBoundWhileReachable_DropsNothingAndProducersWaitUntilABatchIsAcknowledged()
    {
        var buffer = new JobLogBuffer(Quiet, 10, 20, Heartbeat, T0);
        for (var i = 0; i < 20; i++)
        {
            buffer.Add(Line($"line {i}"), T0);
        }

        var room = buffer.WaitForRoomAsync();
        Assert.True(buffer.IsFull);
        Assert.False(room.IsCompleted);
        buffer.Add(Line("line 20"), T0); // the daemon's own lines never wait and are never dropped
        Assert.Equal(21, buffer.Count);
        Assert.Equal(0, buffer.Dropped);

        buffer.Acknowledge(buffer.Peek(), T0);

        Assert.True(room.IsCompletedSuccessfully);
        Assert.False(buffer.IsFull);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"line {i}"), buffer.Peek().Logs.Select(log => log.Output));
    }

    [Fact]
    public void WaitForRoom_CoordinatorBecomesUnreachable_ReleasesTheProducerAndTheBoundDropsFromThen()
    {
        var buffer = new JobLogBuffer(Quiet, 10, 20, Heartbeat, T0);
        for (var i = 0; i < 20; i++)
        {
            buffer.Add(Line($"line {i}"), T0);
        }

        var room = buffer.WaitForRoomAsync();
        buffer.Reject(buffer.Peek(), T0);
        buffer.MarkUnreachable();
        buffer.Add(Line("line 20"), T0);

        Assert.True(room.IsCompletedSuccessfully);
        Assert.False(buffer.IsFull);
        Assert.True(buffer.IsUnreachable);
        Assert.Equal(1, buffer.Dropped);
        Assert.StartsWith("1 log lines were dropped while the coordinator was unreachable", buffer.Peek().Logs[0].Output, StringComparison.Ordinal);
    }

    [Fact]
    public void WaitForRoom_BufferClosed_ReleasesTheProducer()
    {
        var buffer = new JobLogBuffer(Quiet, 10, 10, Heartbeat, T0);
        for (var i = 0; i < 10; i++)
        {
            buffer.Add(Line($"line {i}"), T0);
        }

        var room = buffer.WaitForRoomAsync();
        buffer.Close();

        Assert.True(room.IsCompletedSuccessfully);
        Assert.False(buffer.IsFull);
    }

    private static Log Line(string output) => new() { Source = LogSource.Provisioner, Level = ProtocolLogLevel.Info, Stage = "Planning infrastructure", Output = output };
}
