using System.Globalization;

namespace Provisioning.Bench;

/// <summary>Command-line options; every scenario is bounded by a job count and a duration.</summary>
internal sealed record BenchOptions
{
    public int Jobs { get; init; } = 2000;

    public int Daemons { get; init; } = 8;

    public int Producers { get; init; } = 16;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public int Samples { get; init; } = 200;

    public int IdleDaemons { get; init; } = 20;

    public int RawWorkers { get; init; } = 4;

    public IReadOnlyList<int> BuildResources { get; init; } = [20];

    public int BuildPairs { get; init; } = 7;

    public int LogLines { get; init; } = 100_000;

    public int RssBuilds { get; init; } = 20;

    public int FleetDaemons { get; init; } = 50;

    public int FleetSlots { get; init; } = 8;

    public int FleetProcesses { get; init; } = 2;

    public int FleetSamples { get; init; } = 50;

    public int FleetIdleSeconds { get; init; } = 10;

    /// <summary>Environment of the fleet's daemon, e.g. Terraform__SkipInitWhenCached=false to measure without the init skip.</summary>
    public IReadOnlyDictionary<string, string?> DaemonEnvironment { get; init; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    public string? PostgresUrl { get; init; }

    /// <summary>The `provisioning` executable of the fleet scenarios; null: the one built beside the bench.</summary>
    public string? CliPath { get; init; }

    public bool Json { get; init; }

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "throughput", "latency", "raw", "build", "logs", "rss", "fleet" };

    /// <summary>The scenarios that run on a fleet of separate processes (server, daemon, CLI) instead of the in-process coordinator.</summary>
    public static readonly IReadOnlySet<string> FleetScenarios = new HashSet<string>(StringComparer.Ordinal) { "build", "logs", "rss" };

    public const string Usage =
        """
        Provisioning.Bench: no-op jobs through the real coordinator (in-process host, 127.0.0.1 only) and daemons on real gRPC.

          --jobs N            jobs in the throughput and raw-SQL runs (default 2000)
          --daemons M         daemons (one slot each) draining in the throughput run (default 8)
          --producers P       concurrent enqueuers in the throughput and raw-SQL runs (default 16)
          --duration S        upper bound of each run, in seconds (default 60)
          --samples K         jobs enqueued one at a time in the latency run (default 200)
          --idle-daemons D    daemons waiting during the latency run (default 20)
          --raw-workers W     concurrent claim/complete workers in the raw-SQL run (default 4)
          --build-resources L comma-separated resource counts of the build-overhead templates (default 20; the issue also asks 200)
          --build-pairs N     alternating (provisioning create, bare terraform) pairs per template (default 7)
          --log-lines N       lines the logs scenario's build prints (default 100000; the issue's figure is 1000000)
          --rss-builds N      builds before the daemon's idle RSS is read (default 20; the issue's figure is 100)
          --fleet-daemons D   daemons of the idle-fleet scenario (default 50; the issue's figure is 1250)
          --fleet-slots S     slots (open acquire streams) per fleet daemon (default 8)
          --fleet-processes P processes the fleet daemons are spread over (default 2; e.g. 10 for 1250)
          --fleet-samples K   jobs enqueued one at a time on the idle fleet (default 50)
          --fleet-idle S      seconds the server's idle CPU is read over (default 10)
          --daemon-env K=V    an environment variable of the fleet's daemon (repeatable), e.g. Terraform__SkipInitWhenCached=false
          --cli PATH          the `provisioning` executable of the fleet scenarios (default: the one built beside the bench),
                              e.g. the release's ReadyToRun single file: artifacts/publish/linux-x64/provisioning
          --scenario LIST     comma-separated: throughput,latency,raw,build,logs,rss,fleet (default all)
          --postgres-url URL  an existing PostgreSQL (a database of its own is created and dropped);
                              default: the built-in PostgreSQL in a temporary directory
          --output table|json (default table)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                throw new BenchUsageException(null);
            }

            if (i + 1 >= args.Length)
            {
                throw new BenchUsageException($"Option {name} needs a value.");
            }

            var value = args[++i];
            options = name switch
            {
                "--jobs" => options with { Jobs = Positive(name, value) },
                "--daemons" => options with { Daemons = Positive(name, value) },
                "--producers" => options with { Producers = Positive(name, value) },
                "--duration" => options with { Duration = TimeSpan.FromSeconds(Positive(name, value)) },
                "--samples" => options with { Samples = Positive(name, value) },
                "--idle-daemons" => options with { IdleDaemons = Positive(name, value) },
                "--raw-workers" => options with { RawWorkers = Positive(name, value) },
                "--postgres-url" => options with { PostgresUrl = value },
                "--cli" => File.Exists(value)
                    ? options with { CliPath = Path.GetFullPath(value) }
                    : throw new BenchUsageException($"--cli names no file: `{value}`."),
                "--build-resources" => options with { BuildResources = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item => Positive(name, item))] },
                "--build-pairs" => options with { BuildPairs = Positive(name, value) },
                "--log-lines" => options with { LogLines = Positive(name, value) },
                "--rss-builds" => options with { RssBuilds = Positive(name, value) },
                "--fleet-daemons" => options with { FleetDaemons = Positive(name, value) },
                "--fleet-slots" => options with { FleetSlots = Positive(name, value) },
                "--fleet-processes" => options with { FleetProcesses = Positive(name, value) },
                "--fleet-samples" => options with { FleetSamples = Positive(name, value) },
                "--fleet-idle" => options with { FleetIdleSeconds = Positive(name, value) },
                "--daemon-env" => value.IndexOf('=', StringComparison.Ordinal) is > 0 and var equals
                    ? options with { DaemonEnvironment = new Dictionary<string, string?>(options.DaemonEnvironment, StringComparer.Ordinal) { [value[..equals]] = value[(equals + 1)..] } }
                    : throw new BenchUsageException($"--daemon-env takes NAME=VALUE, not `{value}`."),
                "--output" => value switch
                {
                    "json" => options with { Json = true },
                    "table" => options with { Json = false },
                    _ => throw new BenchUsageException($"--output takes `table` or `json`, not `{value}`."),
                },
                "--scenario" => options with { Scenarios = ParseScenarios(value) },
                _ => throw new BenchUsageException($"Unknown option {name}."),
            };
        }

        return options;
    }

    private static HashSet<string> ParseScenarios(string value)
    {
        var scenarios = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (scenarios.Count == 0 || scenarios.Any(scenario => scenario is not ("throughput" or "latency" or "raw" or "build" or "logs" or "rss" or "fleet")))
        {
            throw new BenchUsageException($"--scenario takes a comma-separated list of throughput, latency, raw, build, logs, rss, fleet; `{value}` was given.");
        }

        return scenarios;
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new BenchUsageException($"Option {name} takes a positive whole number, not `{value}`.");
}
