using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Fleet;

// `dotnet run --project tests/Provisioning.FaultInjection -- --rounds 200 [--seed N] [--faults a,b] [--keep]`
// Exit code: 0 when every invariant held, 1 when one was violated, 2 for bad arguments or a run that could not complete.
if (!OperatingSystem.IsLinux())
{
    await Console.Error.WriteLineAsync("The fault suite signals processes and reads /proc: it runs on Linux only.");
    return 2;
}

FaultRunOptions options;
try
{
    options = FaultRunOptions.Parse(args, Environment.GetEnvironmentVariable);
}
catch (FormatException exception)
{
    await Console.Error.WriteLineAsync(exception.Message);
    return 2;
}

if (!PostgresCluster.Available)
{
    await Console.Error.WriteLineAsync("The PostgreSQL server programs (initdb, pg_ctl) are not installed: apt-get install postgresql.");
    return 2;
}

// The first Ctrl+C ends the run cleanly (the fleet is torn down); a second one ends the process, whose exit handler still tears it down.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (!stop.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("Stopping: tearing the fleet down (Ctrl+C again to exit at once)…");
        stop.Cancel();
    }
};

var log = new RunLog(Console.WriteLine);
try
{
    var report = await FaultRun.RunAsync(options, log, stop.Token);
    return report.Violations.Count == 0 ? 0 : 1;
}
catch (Exception exception) when (exception is OperationCanceledException or TimeoutException or InvalidOperationException)
{
    log.Write($"the run did not complete: {exception.Message}");
    return 2;
}
