using System.Globalization;
using System.Text;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>
/// Shows a job as it runs: its place in the queue while pending (and why it waits), then its log lines grouped under
/// their stage, until it ends. Ctrl+C asks whether to cancel the job (without a terminal on stdin it cancels); a second
/// Ctrl+C after a cancel stops following and leaves the job to end on its own.
/// </summary>
internal sealed class JobFollower(ProvisioningClient client)
{
    private static readonly TimeSpan QueuePollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    /// <param name="jobId">The job to follow.</param>
    /// <param name="atEnd">Work that needs the job ended (e.g. reading its build's timings), run beside the final read of the job rather than after it: one round trip less for every build a user waits on.</param>
    /// <param name="cancellationToken">Stops following.</param>
    public async Task<Job> FollowAsync(Guid jobId, CancellationToken cancellationToken, Func<CancellationToken, Task>? atEnd = null)
    {
        using var detached = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cancelRequested = 0;
        var prompting = 0;
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs args)
        {
            args.Cancel = true;
            if (Volatile.Read(ref cancelRequested) == 1 || Volatile.Read(ref prompting) == 1)
            {
                Console.Error.WriteLine("Stopped following; the job goes on ending by itself (see `provisioning jobs list`).");
                detached.Cancel();
                return;
            }

            _ = Task.Run(async () =>
            {
                var cancel = Console.IsInputRedirected;
                if (!cancel)
                {
                    Interlocked.Exchange(ref prompting, 1);
                    Console.Error.Write("\nCancel the job? [y/N] ");
                    var answer = Console.ReadLine()?.Trim();
                    Interlocked.Exchange(ref prompting, 0);
                    cancel = answer is not null && answer.StartsWith('y');
                }

                if (!cancel)
                {
                    Console.Error.WriteLine("Still following; the job goes on.");
                    return;
                }

                Interlocked.Exchange(ref cancelRequested, 1);
                Console.Error.WriteLine("Canceling the job (Ctrl+C again to stop following)...");
                try
                {
                    await client.CancelJobAsync(jobId, CancellationToken.None).ConfigureAwait(false);
                }
                catch (ProvisioningApiException exception)
                {
                    Console.Error.WriteLine("Could not cancel: " + exception.Message);
                }
            });
        }

        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            return await FollowCoreAsync(jobId, atEnd, detached.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (detached.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"Stopped following job {jobId}; it was asked to cancel.", 130);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    private async Task<Job> FollowCoreAsync(Guid jobId, Func<CancellationToken, Task>? atEnd, CancellationToken cancellationToken)
    {
        using var stopQueue = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = ShowQueueAsync(jobId, stopQueue.Token);
        long cursor = 0;
        string? stage = null;
        var ended = false;

        // Redirected output (a file, a pipe, a script) gets the log lines in blocks: Console.Out writes every line out on
        // its own, a system call per line of a chatty build. The block goes out whenever the follower is about to wait
        // for the server and before anything else is written, so no line shows later than before. On a terminal lines
        // are written as before.
        var block = Console.IsOutputRedirected ? new StreamWriter(Console.OpenStandardOutput(), BlockEncoding(), 1 << 16) : null;
        try
        {
            while (!ended)
            {
                var items = client.FollowJobLogsAsync(jobId, cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
                await using (items.ConfigureAwait(false))
                {
                    while (true)
                    {
                        var next = items.MoveNextAsync();
                        if (!next.IsCompleted)
                        {
                            block?.Flush();
                        }

                        if (!await next.ConfigureAwait(false))
                        {
                            break;
                        }

                        if (items.Current is JobEnd)
                        {
                            ended = true;
                            break;
                        }

                        var log = (JobLog)items.Current;
                        cursor = log.Id;
                        if (!queue.IsCompleted)
                        {
                            // Its last heading (if it was printing one) comes before the first line, never between lines.
                            await stopQueue.CancelAsync().ConfigureAwait(false);
                            await queue.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                        }

                        if (log.Stage.Length > 0 && log.Stage != stage)
                        {
                            stage = log.Stage;
                            block?.Flush();
                            CliConsole.Heading(TerminalText.Clean(stage));
                        }

                        if (log.Output != log.Stage)
                        {
                            WriteLine(log, block);
                        }
                    }
                }

                if (!ended)
                {
                    // The stream dropped (a coordinator restart, a proxy timeout): resume after the last line seen.
                    block?.Flush();
                    await Task.Delay(ReconnectDelay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (block is not null)
            {
                await block.DisposeAsync().ConfigureAwait(false);
            }

            await stopQueue.CancelAsync().ConfigureAwait(false);
            await queue.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var final = client.GetJobAsync(jobId, cancellationToken);
        if (atEnd is not null)
        {
            await Task.WhenAll(final, atEnd(cancellationToken)).ConfigureAwait(false);
        }

        return await final.ConfigureAwait(false);
    }

    /// <summary>The console's output encoding, without a byte order mark (which a stream writer would put before the first line).</summary>
    private static Encoding BlockEncoding() =>
        Console.OutputEncoding.GetPreamble().Length == 0 ? Console.OutputEncoding : new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>While the job is pending, prints its queue position and waiting reason whenever they change.</summary>
    private async Task ShowQueueAsync(Guid jobId, CancellationToken cancellationToken)
    {
        string? shown = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var job = await client.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
            if (job.Status != "pending")
            {
                if (job.Status is "running")
                {
                    CliConsole.Heading("Running");
                }

                return;
            }

            var text = Describe(job);
            if (text != shown)
            {
                CliConsole.Heading(text);
                shown = text;
            }

            await Task.Delay(QueuePollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A log line of the template's run: control sequences removed (templates are code), errors and warnings colored on a
    /// terminal. With <paramref name="block"/> (redirected output, never styled) the same plain line goes into the block.
    /// </summary>
    private static void WriteLine(JobLog log, StreamWriter? block)
    {
        var output = TerminalText.Clean(log.Output);
        var line = log.Level switch
        {
            "error" => "    ERROR " + output,
            "warn" => "    WARN " + output,
            _ => "    " + output,
        };
        if (block is not null)
        {
            block.WriteLine(line);
            return;
        }

        switch (log.Level)
        {
            case "error":
                CliConsole.Line(line, "red");
                break;
            case "warn":
                CliConsole.Line(line, "yellow");
                break;
            default:
                Console.WriteLine(line);
                break;
        }
    }

    public static string Describe(Job job)
    {
        var position = job.QueuePosition is { } at ? string.Create(CultureInfo.InvariantCulture, $"Queued: position {at} of {job.QueueSize}") : "Queued";
        return job.WaitingReason is { Length: > 0 } reason ? $"{position} ({reason})" : position;
    }

    public static string Duration(Job job) =>
        job.StartedAt is { } started && job.CompletedAt is { } completed
            ? string.Create(CultureInfo.InvariantCulture, $" in {(completed - started).TotalSeconds:0.0}s")
            : string.Empty;

    /// <summary>Prints a job's stored log lines, page by page, without following it (<c>logs</c> of an ended build or import).</summary>
    public static async Task PrintStoredLogsAsync(ProvisioningClient client, Guid jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        long cursor = 0;
        while (true)
        {
            var logs = await client.GetJobLogsAsync(jobId, cursor, cancellationToken).ConfigureAwait(false);
            if (logs.Count == 0)
            {
                return;
            }

            foreach (var log in logs)
            {
                Console.WriteLine($"{TextTable.Time(log.CreatedAt)} {log.Stage,-32} {log.Level,-5} {TerminalText.Clean(log.Output)}");
                cursor = log.Id;
            }
        }
    }
}
