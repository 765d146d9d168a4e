using System.Collections.Concurrent;

using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon.Tests.Support;

/// <summary>One job in the <see cref="TestCoordinator"/>: what the daemon sent for it, and its terminal report.</summary>
public sealed class TestJob(AcquiredJob job)
{
    private readonly ConcurrentQueue<Log> _logs = new();
    private readonly ConcurrentQueue<UpdateJobRequest> _updates = new();
    private readonly TaskCompletionSource<TerminalReport> _terminal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _terminalCalls;
    private volatile bool _cancelRequested;

    public string Id => job.JobId;

    public AcquiredJob Job => job;

    public IReadOnlyList<Log> Logs => [.. _logs];

    public IReadOnlyList<UpdateJobRequest> Updates => [.. _updates];

    public string LogText => string.Join('\n', _logs.Select(log => $"[{log.Stage}] {log.Source} {log.Level}: {log.Output}"));

    /// <summary>The id of the daemon that acquired the job.</summary>
    public string? Owner { get; internal set; }

    /// <summary>When the coordinator handed the job to a daemon; null while queued.</summary>
    public DateTimeOffset? AcquiredAt { get; internal set; }

    /// <summary>When the first terminal report was accepted.</summary>
    public DateTimeOffset? FinishedAt { get; private set; }

    /// <summary>CompleteJob and FailJob calls, refused ones included.</summary>
    public int TerminalCalls => Volatile.Read(ref _terminalCalls);

    public bool CancelRequested => _cancelRequested;

    /// <summary>A user cancels the job: the next UpdateJob answers canceled.</summary>
    public void Cancel() => _cancelRequested = true;

    public Task<TerminalReport> WaitAsync(CancellationToken cancellationToken) => _terminal.Task.WaitAsync(cancellationToken);

    public bool IsFinished => _terminal.Task.IsCompleted;

    internal void AddUpdate(UpdateJobRequest request)
    {
        _updates.Enqueue(request);
        foreach (var log in request.Logs)
        {
            _logs.Enqueue(log);
        }
    }

    internal int CountTerminalCall() => Interlocked.Increment(ref _terminalCalls);

    internal void Finish(TerminalReport report)
    {
        if (_terminal.TrySetResult(report))
        {
            FinishedAt = DateTimeOffset.UtcNow;
        }
    }
}
