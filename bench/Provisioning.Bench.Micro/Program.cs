using System.Globalization;

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

using Provisioning.Bench.Micro;

// "phases [resources] [iterations]": the per-phase CPU and allocation split of one conversion (PhaseBreakdown).
if (args is ["phases", ..])
{
    PhaseBreakdown.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100);
    return;
}

// In process (no generated project to build): 3 warm-up and 10 measured iterations per case, which keeps the six
// cases within a few minutes on the 2-core machine. Arguments go to BenchmarkDotNet, e.g. --filter '*Convert*'.
var config = DefaultConfig.Instance.AddJob(
    Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
BenchmarkDotNet.Running.BenchmarkSwitcher.FromTypes([typeof(StateConversionBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
