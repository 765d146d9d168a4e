using System.Diagnostics;
using System.Text.Json;

using Provisioning.Terraform.State;

namespace Provisioning.Bench.Micro;

/// <summary>
/// Where a state conversion's time goes, phase by phase (parse, read the resources, parse the graph, index, convert):
/// the process's CPU time, the garbage collector's pauses within it and this thread's allocations per phase, averaged
/// over many conversions. CPU time rather than wall clock, so a figure taken while other work shares the cores still
/// splits the same way.
/// Run: <c>Provisioning.Bench.Micro phases [resources] [iterations]</c>.
/// </summary>
internal static class PhaseBreakdown
{
    private static readonly string[] Phases = ["JsonDocument.Parse", "read resources", "graph parse", "index", "convert"];

    public static void Run(int resources, int iterations)
    {
        var (json, dot) = SyntheticState.Create(resources);
        var cpu = new double[Phases.Length];
        var allocated = new long[Phases.Length];
        var paused = new double[Phases.Length];
        var collectionsBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < iterations; i++)
        {
            var phase = 0;
            var cpuMark = CpuMilliseconds(process);
            var allocatedMark = GC.GetAllocatedBytesForCurrentThread();
            var pauseMark = GC.GetTotalPauseDuration().TotalMilliseconds;
            void EndPhase()
            {
                var now = CpuMilliseconds(process);
                var allocatedNow = GC.GetAllocatedBytesForCurrentThread();
                var pauseNow = GC.GetTotalPauseDuration().TotalMilliseconds;
                cpu[phase] += now - cpuMark;
                allocated[phase] += allocatedNow - allocatedMark;
                paused[phase] += pauseNow - pauseMark;
                (cpuMark, allocatedMark, pauseMark) = (now, allocatedNow, pauseNow);
                phase++;
            }

            using var document = JsonDocument.Parse(json);
            EndPhase();
            var list = new List<TerraformResource>();
            TerraformResource.ReadModule(document.RootElement.GetProperty("values").GetProperty("root_module"), list);
            EndPhase();
            var graph = TerraformGraph.Parse(dot);
            EndPhase();
            var conversion = new StateConversion(list, graph);
            EndPhase();
            conversion.Run();
            EndPhase();
        }

        Console.WriteLine($"{resources} resources, {iterations} conversions, CPU ms (of which the collector's pauses, wall clock), KB allocated per conversion:");
        for (var phase = 0; phase < Phases.Length; phase++)
        {
            Console.WriteLine($"  {Phases[phase],-20} {cpu[phase] / iterations,8:F2} ms ({paused[phase] / iterations,6:F2} ms GC) {allocated[phase] / iterations / 1024,8} KB");
        }

        Console.WriteLine(
            $"  collections per conversion: gen0 {(GC.CollectionCount(0) - collectionsBefore.Item1) / (double)iterations:F2}, " +
            $"gen1 {(GC.CollectionCount(1) - collectionsBefore.Item2) / (double)iterations:F2}, gen2 {(GC.CollectionCount(2) - collectionsBefore.Item3) / (double)iterations:F2}");

        Console.WriteLine($"  conversion / parse   {cpu[1..].Sum() / cpu[0],8:F2} x");
    }

    private static double CpuMilliseconds(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime.TotalMilliseconds;
    }
}
