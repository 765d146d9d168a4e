using System.Collections.Concurrent;
using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Provisioning.Bench;

/// <summary>
/// An idle fleet on one coordinator: `provisioning server` (no built-in daemon) and D test daemons of S slots each,
/// spread over P processes of their own (<see cref="IdleFleetWorker"/>), every slot an open AcquireJob stream over
/// real gRPC. Once every stream waits: the server's CPU over an idle window and its VmRSS, from /proc. Then K jobs
/// one at a time through the REST API (a template version: its import job), each timed from the request's answer
/// to a daemon holding the job (the workers' CLOCK_MONOTONIC timestamps, the same clock as ours).
/// </summary>
internal static class IdleFleetScenario
{
    private const int WarmUp = 5;
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<ScenarioResult> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var streams = options.FleetDaemons * options.FleetSlots;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(options.Duration + TimeSpan.FromSeconds(2 * options.FleetIdleSeconds) + TimeSpan.FromSeconds(streams / 50.0 + 60));
        await using var fleet = await CliFleet.StartAsync(
            options.PostgresUrl, new Dictionary<string, string?>(), bounded.Token, startDaemon: false, provisionerPsk: BenchCoordinator.Psk).ConfigureAwait(false);
        using var api = fleet.CreateApiClient();
        var fileHash = await UploadTemplateAsync(api, fleet.Root, bounded.Token).ConfigureAwait(false);

        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        var registering = Stopwatch.GetTimestamp();
        await using var workers = new Workers(fleet.Root);
        var perProcess = (options.FleetDaemons + options.FleetProcesses - 1) / options.FleetProcesses;
        for (var first = 0; first < options.FleetDaemons; first += perProcess)
        {
            workers.Start(fleet.GrpcUrl, first, Math.Min(perProcess, options.FleetDaemons - first), options.FleetSlots);
        }

        await workers.WaitForStreamsAsync(streams, bounded.Token).ConfigureAwait(false);
        var allWaiting = Stopwatch.GetElapsedTime(registering);

        // The server is busy for a while after the registrations (session writes, the last streams' set-up, the JIT
        // compiling hot paths again at a higher tier): its CPU is read over a first window, then over a second one,
        // the idle figure.
        var settling = await CpuOverAsync(fleet.ServerPid, options.FleetIdleSeconds, bounded.Token).ConfigureAwait(false);
        var idle = await CpuOverAsync(fleet.ServerPid, options.FleetIdleSeconds, bounded.Token).ConfigureAwait(false);
        var idleRss = IdleMemoryScenario.RssMegabytes(fleet.ServerPid);
        var workersRss = workers.Pids.Sum(IdleMemoryScenario.RssMegabytes);

        var samples = new List<double>(options.FleetSamples);
        var timedOut = false;
        try
        {
            for (var i = 0; i < WarmUp + options.FleetSamples; i++)
            {
                var (answered, jobId) = await CreateVersionAsync(api, fileHash, bounded.Token).ConfigureAwait(false);
                var held = await workers.HeldAsync(jobId, bounded.Token).ConfigureAwait(false);
                await workers.CompletedAsync(jobId, bounded.Token).ConfigureAwait(false);
                if (i >= WarmUp)
                {
                    // Negative when the daemon held the job before the answer reached us (the NOTIFY fires at commit).
                    samples.Add(Stopwatch.GetElapsedTime(answered, held).TotalMilliseconds);
                }

                await Task.Delay(10, bounded.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            timedOut = true;
        }
        catch (InvalidOperationException exception)
        {
            // The server's log goes with the fleet's directory: say what it said.
            var log = await File.ReadAllLinesAsync(Path.Combine(fleet.Root, "server.log"), CancellationToken.None).ConfigureAwait(false);
            throw new InvalidOperationException($"{exception.Message}\nThe server's log ends with:\n{string.Join('\n', log.TakeLast(40))}", exception);
        }

        var answerToHeld = Percentiles.Of(samples);
        return new ScenarioResult(
            "fleet",
            startedAt,
            loadBefore,
            Load.Now(),
            new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["daemons"] = options.FleetDaemons,
                ["slots"] = options.FleetSlots,
                ["processes"] = workers.Pids.Count,
                ["samples"] = options.FleetSamples,
                ["idle_s"] = options.FleetIdleSeconds,
            },
            [
                new Metric("open acquire streams", workers.Waiting, "streams"),
                new Metric("registration start -> every stream waiting", allWaiting.TotalSeconds, "s"),
                new Metric("registrations or streams tried again (the coordinator failed them)", workers.Retried, "calls"),
                new Metric("server CPU, first window after every stream waits", settling, "% core"),
                new Metric("server CPU while idle, the next window (target <= 5 % of a core)", idle, "% core"),
                new Metric("server RSS, idle with every stream open (target <= 1 GB)", idleRss, "MB"),
                new Metric("server peak RSS (VmHWM)", IdleMemoryScenario.PeakMegabytes(fleet.ServerPid), "MB"),
                new Metric("daemon processes' RSS, all together", workersRss, "MB"),
                new Metric("samples", samples.Count, "jobs"),
                new Metric("run stopped by the duration bound", timedOut ? 1 : 0, "bool"),
                new Metric("enqueue answer -> daemon holds job p50", answerToHeld.P50, "ms"),
                new Metric("enqueue answer -> daemon holds job p90", answerToHeld.P90, "ms"),
                new Metric("enqueue answer -> daemon holds job p99 (target <= 50 ms)", answerToHeld.P99, "ms"),
                new Metric("enqueue answer -> daemon holds job max", answerToHeld.Max, "ms"),
            ]);
    }

    /// <summary>The process's own CPU (user + system) over <paramref name="seconds"/>, in percent of one core.</summary>
    private static async Task<double> CpuOverAsync(int pid, int seconds, CancellationToken cancellationToken)
    {
        var before = ProcessCpu.Read(pid);
        var clock = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        return (ProcessCpu.Read(pid) - before).Own / Stopwatch.GetElapsedTime(clock).TotalSeconds * 100;
    }

    /// <summary>Uploads a one-file template (the test daemons never read it) and returns its hash.</summary>
    private static async Task<string> UploadTemplateAsync(HttpClient api, string root, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "templates", "fleet");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "main.tf"), "terraform {}\n", cancellationToken).ConfigureAwait(false);
        using var archive = new MemoryStream();
        await TarFile.CreateFromDirectoryAsync(directory, archive, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
        using var content = new ByteArrayContent(archive.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-tar");
        using var response = await api.PostAsync(new Uri("api/v1/files", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        await Require(response, "upload the fleet template", cancellationToken).ConfigureAwait(false);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        return body.RootElement.GetProperty("hash").GetString()!;
    }

    /// <summary>POSTs a template version (its import job is what a daemon gets); returns when the answer was read, and the job.</summary>
    private static async Task<(long Answered, Guid JobId)> CreateVersionAsync(HttpClient api, string fileHash, CancellationToken cancellationToken)
    {
        using var response = await api.PostAsJsonAsync(
            new Uri("api/v1/templates/fleet/versions", UriKind.Relative), new { FileHash = fileHash, Provisioner = "terraform" }, Json, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var answered = Stopwatch.GetTimestamp();
        await Require(response, "create a template version", cancellationToken).ConfigureAwait(false);
        using var body = JsonDocument.Parse(text);
        return (answered, body.RootElement.GetProperty("job").GetProperty("id").GetGuid());
    }

    private static async Task Require(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{what}: {(int)response.StatusCode} {body}"));
        }
    }

    /// <summary>The daemon processes and what they report.</summary>
    private sealed class Workers(string root) : IAsyncDisposable
    {
        private readonly List<Process> _processes = [];
        private readonly List<string> _logs = [];
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<long>> _held = new();
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<long>> _completed = new();
        private int _waiting;
        private int _retried;

        public int Waiting => Volatile.Read(ref _waiting);

        /// <summary>Registrations and streams the workers tried again after a failure a real daemon retries.</summary>
        public int Retried => Volatile.Read(ref _retried);

        public IReadOnlyList<int> Pids => [.. _processes.Select(process => process.Id)];

        public void Start(Uri grpcUrl, int first, int count, int slots)
        {
            // The bench's own executable: the apphost, or `dotnet Provisioning.Bench.dll`.
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("No path of the bench's executable.");
            var start = new ProcessStartInfo(self)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(IdleFleetWorker).Assembly.Location);
            }

            foreach (var argument in new[] { IdleFleetWorker.Command, grpcUrl.ToString(), Text(first), Text(count), Text(slots) })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {self}.");
            _processes.Add(process);
            _logs.Add(Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"fleet-worker-{first}.log")));
            var log = new StreamWriter(_logs[^1]) { AutoFlush = true };
            process.ErrorDataReceived += (_, args) =>
            {
                if (args.Data is not null)
                {
                    lock (log)
                    {
                        log.WriteLine(args.Data);
                    }
                }
            };
            process.OutputDataReceived += (_, args) => OnLine(args.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public async Task WaitForStreamsAsync(int streams, CancellationToken cancellationToken)
        {
            while (Waiting < streams)
            {
                if (_processes.FindIndex(process => process.HasExited) is >= 0 and var index)
                {
                    // Its log goes with the fleet's directory: say what it said.
                    var log = await File.ReadAllLinesAsync(_logs[index], CancellationToken.None).ConfigureAwait(false);
                    throw new InvalidOperationException(string.Create(
                        CultureInfo.InvariantCulture,
                        $"A fleet worker exited with code {_processes[index].ExitCode} before its streams were open. Its log ends with:\n{string.Join('\n', log.TakeLast(30))}"));
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        public Task<long> HeldAsync(Guid jobId, CancellationToken cancellationToken) => Of(_held, jobId).Task.WaitAsync(cancellationToken);

        public Task<long> CompletedAsync(Guid jobId, CancellationToken cancellationToken) => Of(_completed, jobId).Task.WaitAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            // Closing stdin stops a worker; its streams end and the coordinator forgets the waiting slots.
            foreach (var process in _processes)
            {
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // It has already exited.
                }
            }

            foreach (var process in _processes)
            {
                using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }

        private static TaskCompletionSource<long> Of(ConcurrentDictionary<Guid, TaskCompletionSource<long>> map, Guid jobId) =>
            map.GetOrAdd(jobId, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

        private void OnLine(string? line)
        {
            var fields = line?.Split(' ');
            switch (fields)
            {
                case ["waiting", var count]:
                    Interlocked.Add(ref _waiting, int.Parse(count, CultureInfo.InvariantCulture));
                    break;
                case ["held", var job, var timestamp]:
                    Of(_held, Guid.Parse(job)).TrySetResult(long.Parse(timestamp, CultureInfo.InvariantCulture));
                    break;
                case ["retried", _]:
                    Interlocked.Increment(ref _retried);
                    break;
                case ["completed", var job]:
                    Of(_completed, Guid.Parse(job)).TrySetResult(0);
                    break;
            }
        }

        private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
