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

    public string? PostgresUrl { get; init; }

    public bool Json { get; init; }

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "throughput", "latency", "raw" };

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
          --scenario LIST     comma-separated: throughput,latency,raw (default all)
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
        if (scenarios.Count == 0 || scenarios.Any(scenario => scenario is not ("throughput" or "latency" or "raw")))
        {
            throw new BenchUsageException($"--scenario takes a comma-separated list of throughput, latency, raw; `{value}` was given.");
        }

        return scenarios;
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new BenchUsageException($"Option {name} takes a positive whole number, not `{value}`.");
}
