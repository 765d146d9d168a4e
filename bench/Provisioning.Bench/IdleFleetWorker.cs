using System.Diagnostics;
using System.Globalization;

using Provisioning.Daemon.Coordinator;

namespace Provisioning.Bench;

/// <summary>
/// One process of the idle-fleet scenario's daemons (the bench executable run as
/// <c>fleet-worker URL FIRST COUNT SLOTS</c>): registers COUNT test daemons of SLOTS slots, each on its own HTTP/2
/// connection, keeps one AcquireJob stream open per slot, and reports on stdout, one line each:
/// <c>waiting N</c> once every slot has sent "ready" (N streams), <c>held JOB TIMESTAMP</c> when a daemon holds a job
/// (<see cref="Stopwatch.GetTimestamp"/>: CLOCK_MONOTONIC, the same clock in every process of the machine), and
/// <c>completed JOB</c> once its CompleteJob was acknowledged, <c>retried STATUS</c> when a registration or a stream failed
/// in a way a real daemon retries (<see cref="Provisioning.Daemon.Coordinator.CoordinatorConnection.IsTransient"/>) and
/// was tried again. It stops when its stdin closes (the bench ends it so,
/// and an ended bench leaves no worker behind).
/// </summary>
internal static class IdleFleetWorker
{
    public const string Command = "fleet-worker";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 5
            || !Uri.TryCreate(args[1], UriKind.Absolute, out var address)
            || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(args[3], CultureInfo.InvariantCulture, out var count)
            || !int.TryParse(args[4], CultureInfo.InvariantCulture, out var slots))
        {
            await Console.Error.WriteLineAsync($"usage: {Command} GRPC_URL FIRST_INDEX DAEMONS SLOTS").ConfigureAwait(false);
            return 2;
        }

        var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        var gate = new Lock();
        void Report(string line)
        {
            lock (gate)
            {
                output.WriteLine(line);
            }
        }

        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[64];
            while (await input.ReadAsync(buffer).ConfigureAwait(false) > 0)
            {
            }

            await stop.CancelAsync().ConfigureAwait(false);
        });

        var daemons = new List<TestDaemon>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var daemon = new TestDaemon(
                    address,
                    string.Create(CultureInfo.InvariantCulture, $"fleet-{first + i}"),
                    (job, timestamp) => Report(string.Create(CultureInfo.InvariantCulture, $"held {job} {timestamp}")),
                    job => Report(string.Create(CultureInfo.InvariantCulture, $"completed {job}")),
                    slots);
                daemons.Add(daemon);
                await RegisterAsync(daemon, Report, stop.Token).ConfigureAwait(false);
            }

            // Each slot reports its first wait once; when all have, every stream of this process is open.
            var firstWaits = 0;
            var streams = count * slots;
            var loops = new List<Task>(streams);
            foreach (var daemon in daemons)
            {
                for (var slot = 0; slot < slots; slot++)
                {
                    var counted = false;
                    loops.Add(Task.Run(
                        () => daemon.RunAsync(
                            stop.Token,
                            () =>
                            {
                                if (!counted)
                                {
                                    counted = true;
                                    if (Interlocked.Increment(ref firstWaits) == streams)
                                    {
                                        Report(string.Create(CultureInfo.InvariantCulture, $"waiting {streams}"));
                                    }
                                }
                            },
                            exception => Report($"retried {exception.StatusCode}")),
                        CancellationToken.None));
                }
            }

            try
            {
                await Task.WhenAll(loops).ConfigureAwait(false);
            }
            catch (Exception exception) when (stop.IsCancellationRequested && exception is Grpc.Core.RpcException or OperationCanceledException)
            {
                // Streams torn down by the stop.
            }

            return 0;
        }
        finally
        {
            foreach (var daemon in daemons)
            {
                daemon.Dispose();
            }

            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Registers, trying again (as a real daemon does) while a busy coordinator cannot answer.</summary>
    private static async Task RegisterAsync(TestDaemon daemon, Action<string> report, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await daemon.RegisterAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Grpc.Core.RpcException exception) when (attempt < 10 && CoordinatorConnection.IsTransient(exception) && !cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"{daemon.Name}: register: {exception.Status}; trying again").ConfigureAwait(false);
                report($"retried {exception.StatusCode}");
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
