using System.Globalization;
using System.Text.Json;

using Provisioning.Bench;

if (args is [IdleFleetWorker.Command, ..])
{
    // A process of the idle-fleet scenario's daemons (IdleFleetScenario starts it).
    return await IdleFleetWorker.RunAsync(args);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (BenchUsageException exception)
{
    if (exception.HasMessage)
    {
        await Console.Error.WriteLineAsync(exception.Message);
    }

    await Console.Error.WriteLineAsync(BenchOptions.Usage);
    return exception.HasMessage ? 2 : 0;
}

if (options.CliPath is { } cliPath)
{
    CliFleet.CliPath = cliPath;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, eventArgs) =>
{
    eventArgs.Cancel = true;
    interrupted.Cancel();
};

var results = new List<ScenarioResult>();
if (options.Scenarios.Any(scenario => scenario != "fleet" && !BenchOptions.FleetScenarios.Contains(scenario)))
{
    await using var coordinator = await BenchCoordinator.StartAsync(options.PostgresUrl, interrupted.Token);
    if (options.Scenarios.Contains("throughput"))
    {
        results.Add(await ThroughputScenario.RunAsync(coordinator, options, interrupted.Token));
    }

    if (options.Scenarios.Contains("latency"))
    {
        results.Add(await LatencyScenario.RunAsync(coordinator, options, interrupted.Token));
    }

    if (options.Scenarios.Contains("raw"))
    {
        results.Add(await RawSqlScenario.RunAsync(coordinator, options, interrupted.Token));
    }
}

if (options.Scenarios.Any(BenchOptions.FleetScenarios.Contains))
{
    // A real fleet of processes: `provisioning server`, one `provisioning provisioner start`, the CLI.
    await using var fleet = await CliFleet.StartAsync(options.PostgresUrl, options.DaemonEnvironment, interrupted.Token);
    if (options.Scenarios.Contains("build"))
    {
        foreach (var resources in options.BuildResources)
        {
            results.Add(await BuildOverheadScenario.RunAsync(fleet, resources, options.BuildPairs, interrupted.Token));
        }
    }

    if (options.Scenarios.Contains("logs"))
    {
        results.Add(await LogThroughputScenario.RunAsync(fleet, options.LogLines, interrupted.Token));
    }

    if (options.Scenarios.Contains("rss"))
    {
        results.Add(await IdleMemoryScenario.RunAsync(fleet, options.RssBuilds, interrupted.Token));
    }
}

if (options.Scenarios.Contains("fleet"))
{
    // Its own server: no built-in or CLI-started daemon, a pre-shared key for the test daemons.
    results.Add(await IdleFleetScenario.RunAsync(options, interrupted.Token));
}

if (options.Json)
{
    Console.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
    return 0;
}

foreach (var result in results)
{
    var parameters = string.Join(", ", result.Parameters.Select(parameter => string.Create(CultureInfo.InvariantCulture, $"{parameter.Key}={parameter.Value}")));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"## {result.Scenario} ({parameters}) at {result.StartedAt}, load {result.LoadBefore} -> {result.LoadAfter}"));
    var width = result.Metrics.Max(metric => metric.Name.Length);
    foreach (var metric in result.Metrics)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {metric.Name.PadRight(width)}  {metric.Value,10:0.0} {metric.Unit}"));
    }

    Console.WriteLine();
}

return 0;
