using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Provisioning.Bench;

/// <summary>
/// Log throughput end to end: a template whose build prints N short lines (local-exec `seq 1 N`), created with
/// `provisioning create` on the real fleet. Two readers measure it: the CLI following the build (lines/s between the
/// first and the last `seq` line it printed), and a poller reading the job's stored lines through the REST API as fast
/// as it can (lines/s to the database, as seen by the poller). Both check that every number arrived once, in order.
/// </summary>
internal static class LogThroughputScenario
{
    public static async Task<ScenarioResult> RunAsync(CliFleet fleet, int lines, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(fleet.Root, "templates", "seq");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(
            Path.Combine(directory, "main.tf"),
            string.Create(CultureInfo.InvariantCulture, $$"""
                resource "terraform_data" "seq" {
                  input = "{{lines}}"
                  provisioner "local-exec" {
                    command = "seq 1 {{lines}}"
                  }
                }
                """),
            cancellationToken).ConfigureAwait(false);
        await fleet.PushTemplateAsync("seq", directory, cancellationToken).ConfigureAwait(false);

        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        var follower = new SequenceCheck(lines);
        using var api = fleet.CreateApiClient();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stored = new SequenceCheck(lines);
        var poller = Task.Run(() => PollStoredAsync(api, stored, stop.Token), CancellationToken.None);
        var serverBefore = ProcessCpu.Read(fleet.ServerPid);
        var daemonBefore = ProcessCpu.Read(fleet.DaemonPid);
        var postgresBefore = ProcessCpu.ReadPostgres(fleet.Root);
        var benchBefore = ProcessCpu.Read(Environment.ProcessId);
        var began = Stopwatch.GetTimestamp();
        var create = await fleet.RunCliAsync(["create", "seq-1", "-t", "seq", "-y"], cancellationToken, (line, timestamp) => follower.See(line, timestamp)).ConfigureAwait(false);
        var createSeconds = Stopwatch.GetElapsedTime(began).TotalSeconds;
        create.Require("provisioning create seq-1");
        var storedDone = await poller.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        var server = ProcessCpu.Read(fleet.ServerPid) - serverBefore;
        var daemon = ProcessCpu.Read(fleet.DaemonPid) - daemonBefore;
        var postgres = ProcessCpu.ReadPostgres(fleet.Root) - postgresBefore;
        var bench = ProcessCpu.Read(Environment.ProcessId) - benchBefore;
        var bare = await BareApplyAsync(fleet.Root, directory, lines, cancellationToken).ConfigureAwait(false);

        return new ScenarioResult(
            "logs",
            startedAt,
            loadBefore,
            Load.Now(),
            new Dictionary<string, int>(StringComparer.Ordinal) { ["lines"] = lines },
            [
                new Metric("lines/s to the database (REST poller, first to last seq line)", stored.LinesPerSecond, "lines/s"),
                new Metric("lines/s to a follower (provisioning create, first to last seq line)", follower.LinesPerSecond, "lines/s"),
                new Metric("  the same over the second half of the lines (fresh processes warmed up: JIT tier-up done)", follower.SecondHalfLinesPerSecond(lines), "lines/s"),
                new Metric("ceiling: bare terraform apply -json of the same plan, seq lines/s on its stdout", bare.LinesPerSecond, "lines/s"),
                new Metric("  the same over the second half of the lines", bare.SecondHalfLinesPerSecond(lines), "lines/s"),
                new Metric("seq lines stored", stored.Count, "lines"),
                new Metric("seq lines the follower printed", follower.Count, "lines"),
                new Metric("lines lost or out of order (stored)", lines - stored.InOrder, "lines"),
                new Metric("lines lost or out of order (follower)", lines - follower.InOrder, "lines"),
                new Metric("provisioning create, wall", createSeconds, "s"),
                new Metric("CPU: server process (coordinator; its PostgreSQL not included)", server.Own, "s"),
                new Metric("CPU: daemon process", daemon.Own, "s"),
                new Metric("CPU: daemon's ended children (terraform)", daemon.Children, "s"),
                new Metric("CPU: the server's PostgreSQL (built-in: the postmaster and its processes; 0 with --postgres-url)", postgres.Own, "s"),
                new Metric("CPU: the following CLI (provisioning create)", bench.Children, "s"),
                new Metric("CPU: this bench process (the REST poller, reading the CLI's output)", bench.Own, "s"),
                new Metric("poller read the job's end", storedDone ? 1 : 0, "bool"),
            ]);
    }

    /// <summary>The same template applied by Terraform alone (-json, as the daemon runs it): how fast Terraform itself prints the lines.</summary>
    private static async Task<SequenceCheck> BareApplyAsync(string root, string template, int lines, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "bare", "seq");
        Directory.CreateDirectory(directory);
        File.Copy(Path.Combine(template, "main.tf"), Path.Combine(directory, "main.tf"));
        var environment = new Dictionary<string, string?> { ["TF_IN_AUTOMATION"] = "1", ["CHECKPOINT_DISABLE"] = "1" };
        (await ChildRun.RunAsync("terraform", ["init", "-input=false"], directory, environment, TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false)).Require("terraform init");
        (await ChildRun.RunAsync("terraform", ["plan", "-input=false", "-out=plan.out"], directory, environment, TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false)).Require("terraform plan");
        var check = new SequenceCheck(lines);
        (await ChildRun.RunAsync("terraform", ["apply", "-json", "-input=false", "plan.out"], directory, environment, TimeSpan.FromMinutes(10), cancellationToken, (line, timestamp) =>
        {
            // {"@message":"terraform_data.seq: (local-exec): 17", …}: the same text the daemon logs.
            using var message = JsonDocument.Parse(line);
            if (message.RootElement.TryGetProperty("@message", out var text))
            {
                check.See(text.GetString() ?? string.Empty, timestamp);
            }
        }).ConfigureAwait(false)).Require("terraform apply");
        return check;
    }

    /// <summary>Reads the running job's stored lines page by page until the job has ended and nothing is left.</summary>
    private static async Task<bool> PollStoredAsync(HttpClient api, SequenceCheck stored, CancellationToken cancellationToken)
    {
        Guid? jobId = null;
        while (jobId is null)
        {
            using var jobs = JsonDocument.Parse(await api.GetStringAsync(new Uri("api/v1/jobs?status=running", UriKind.Relative), cancellationToken).ConfigureAwait(false));
            jobId = jobs.RootElement.EnumerateArray().Select(job => job.GetProperty("id").GetGuid()).Cast<Guid?>().FirstOrDefault();
            if (jobId is null)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }

        long cursor = 0;
        while (true)
        {
            using var page = JsonDocument.Parse(await api.GetStringAsync(new Uri($"api/v1/jobs/{jobId}/logs?after={cursor}", UriKind.Relative), cancellationToken).ConfigureAwait(false));
            var now = Stopwatch.GetTimestamp();
            var count = 0;
            foreach (var line in page.RootElement.EnumerateArray())
            {
                cursor = line.GetProperty("id").GetInt64();
                stored.See(line.GetProperty("output").GetString() ?? string.Empty, now);
                count++;
            }

            if (count == 0)
            {
                using var job = JsonDocument.Parse(await api.GetStringAsync(new Uri($"api/v1/jobs/{jobId}", UriKind.Relative), cancellationToken).ConfigureAwait(false));
                if (job.RootElement.GetProperty("completed_at").ValueKind != JsonValueKind.Null)
                {
                    // One more read: lines stored just before the end.
                    using var last = JsonDocument.Parse(await api.GetStringAsync(new Uri($"api/v1/jobs/{jobId}/logs?after={cursor}", UriKind.Relative), cancellationToken).ConfigureAwait(false));
                    foreach (var line in last.RootElement.EnumerateArray())
                    {
                        stored.See(line.GetProperty("output").GetString() ?? string.Empty, Stopwatch.GetTimestamp());
                    }

                    return true;
                }

                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts lines ending in `: N` (local-exec output) and checks that N runs 1, 2, 3, … without a gap.</summary>
    private sealed class SequenceCheck(int lines)
    {
        private readonly int _halfOf = lines / 2;

        private long _first;
        private long _last;
        private long _half;

        public int Count { get; private set; }

        public int InOrder { get; private set; }

        public double LinesPerSecond => Count < 2 ? double.NaN : (Count - 1) / Stopwatch.GetElapsedTime(_first, _last).TotalSeconds;

        /// <summary>Lines/s from line <paramref name="lines"/>/2 to the last: the rate once the processes' code is compiled.</summary>
        public double SecondHalfLinesPerSecond(int lines) =>
            _half == 0 || Count < lines ? double.NaN : (lines - _halfOf) / Stopwatch.GetElapsedTime(_half, _last).TotalSeconds;

        public void See(string line, long timestamp)
        {
            var colon = line.LastIndexOf("): ", StringComparison.Ordinal);
            if (colon < 0 || !line.Contains("(local-exec)", StringComparison.Ordinal)
                || !int.TryParse(line.AsSpan(colon + 3).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return;
            }

            if (Count == 0)
            {
                _first = timestamp;
            }

            _last = timestamp;
            Count++;
            if (number == InOrder + 1)
            {
                InOrder++;
            }

            if (number == _halfOf && _half == 0)
            {
                _half = timestamp;
            }
        }
    }
}
