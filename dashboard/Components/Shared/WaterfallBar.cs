using Provisioning.Coordinator.Api.Workspaces;

namespace Provisioning.Dashboard.Components.Shared;

/// <summary>One bar of a build's timeline: a stage (init, plan, apply, …) or one resource's action inside it.</summary>
public sealed record WaterfallBar(string Label, string Detail, bool IsStage, DateTime StartedAt, DateTime EndedAt)
{
    /// <summary>
    /// Stages in order, each followed by the resource actions that ran inside it. A stage may run twice (a plan of the
    /// start and of the stop transition), so a resource belongs to the run of its stage whose time span holds its start,
    /// and appears once.
    /// </summary>
    internal static IReadOnlyList<WaterfallBar> From(BuildTimingsResponse timings)
    {
        var bars = new List<WaterfallBar>();
        var placed = new HashSet<TimingResponse>();
        foreach (var stage in timings.Stages.OrderBy(stage => stage.StartedAt))
        {
            bars.Add(new WaterfallBar(stage.Stage, $"{stage.Stage}: {stage.DurationSeconds:0.00} s", true, stage.StartedAt, stage.EndedAt));
            foreach (var resource in timings.Resources
                .Where(resource => resource.Stage == stage.Stage && resource.StartedAt >= stage.StartedAt && resource.StartedAt <= stage.EndedAt && placed.Add(resource))
                .OrderBy(resource => resource.StartedAt))
            {
                bars.Add(new WaterfallBar(
                    resource.Resource, $"{resource.Resource} {resource.Action} ({resource.State}): {resource.DurationSeconds:0.00} s", false, resource.StartedAt, resource.EndedAt));
            }
        }

        // Resource timings outside every stage's span (clocks of different processes) still show, at the end.
        bars.AddRange(timings.Resources.Where(resource => !placed.Contains(resource)).OrderBy(resource => resource.StartedAt).Select(resource =>
            new WaterfallBar(resource.Resource, $"{resource.Resource} {resource.Action} ({resource.State}): {resource.DurationSeconds:0.00} s", false, resource.StartedAt, resource.EndedAt)));
        return bars;
    }
}
