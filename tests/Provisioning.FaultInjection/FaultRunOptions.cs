using System.Globalization;

using Provisioning.FaultInjection.Faults;

namespace Provisioning.FaultInjection;

/// <summary>
/// What one run of the fault suite does. Every value comes from a command-line flag, else an environment
/// variable (so the xunit test and CI can set them), else the default; <see cref="Parse"/> rejects bad values
/// with a message that names the flag.
/// </summary>
internal sealed record FaultRunOptions
{
    public const string RoundsVariable = "PROVISIONING_FAULT_ROUNDS";
    public const string SeedVariable = "PROVISIONING_FAULT_SEED";
    public const string FaultsVariable = "PROVISIONING_FAULT_KINDS";
    public const string KeepVariable = "PROVISIONING_FAULT_KEEP";

    /// <summary>Rounds of the CI run: 3 keep the test project near 3 minutes on 2 cores (see the README's timings).</summary>
    public const int DefaultRounds = 3;

    /// <summary>How many rounds (each: one workspace built create → stop → start under one fault, then deleted).</summary>
    public int Rounds { get; init; } = DefaultRounds;

    /// <summary>Seeds the choice of faults, their targets and their moments; printed at start so that a run can be replayed.</summary>
    public int Seed { get; init; } = Random.Shared.Next(1, int.MaxValue);

    /// <summary>The faults to draw from (default: all five).</summary>
    public IReadOnlyList<FaultKind> Faults { get; init; } = Enum.GetValues<FaultKind>();

    /// <summary>The coordinator's --job-hang-timeout: short, so that a hung job is reaped within a round.</summary>
    public TimeSpan HangTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>External daemons in the healthy fleet (one slot each, each with its own key and cache directory).</summary>
    public int Daemons { get; init; } = 2;

    /// <summary>How long the template's `compute` resource takes to create: the window in which faults land mid-apply.</summary>
    public int SleepSeconds { get; init; } = 3;

    /// <summary>Keep the run's temporary directory (logs, markers, the database's files) after the run, for a post-mortem.</summary>
    public bool Keep { get; init; }

    /// <summary>The `provisioning` executable (default: the one built beside this program).</summary>
    public string CliPath { get; init; } = Path.Combine(AppContext.BaseDirectory, "provisioning");

    /// <summary>The template's directory (default: the copy built beside this program).</summary>
    public string TemplateDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "Template");

    /// <summary>How long the whole run may take before it gives up: setup plus a generous bound per round.</summary>
    public TimeSpan Deadline => TimeSpan.FromMinutes(3) + (Rounds * (TimeSpan.FromMinutes(6) + (4 * HangTimeout)));

    /// <summary>The options from <paramref name="arguments"/> (--rounds N, --seed N, --faults a,b, --keep) over the environment.</summary>
    public static FaultRunOptions Parse(IReadOnlyList<string> arguments, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["--rounds"] = environment(RoundsVariable),
            ["--seed"] = environment(SeedVariable),
            ["--faults"] = environment(FaultsVariable),
            ["--keep"] = environment(KeepVariable) is "1" or "true" ? "true" : null,
        };
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument == "--keep")
            {
                values[argument] = "true";
            }
            else if (values.ContainsKey(argument) && i + 1 < arguments.Count)
            {
                values[argument] = arguments[++i];
            }
            else
            {
                throw new FormatException($"Unknown or incomplete argument '{argument}'. Use: --rounds N  --seed N  --faults {string.Join(',', Enum.GetValues<FaultKind>().Select(FaultKinds.Name))}  --keep");
            }
        }

        var options = new FaultRunOptions { Keep = values["--keep"] == "true" };
        if (values["--rounds"] is { Length: > 0 } rounds)
        {
            options = options with { Rounds = PositiveNumber(rounds, "--rounds", RoundsVariable) };
        }

        if (values["--seed"] is { Length: > 0 } seed)
        {
            options = options with { Seed = PositiveNumber(seed, "--seed", SeedVariable) };
        }

        if (values["--faults"] is { Length: > 0 } faults)
        {
            options = options with { Faults = [.. faults.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(FaultKinds.Parse).Distinct()] };
        }

        return options;
    }

    private static int PositiveNumber(string text, string flag, string variable) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new FormatException($"{flag} (or ${variable}) must be a positive whole number, not '{text}'.");
}
