using Provisioning.Coordinator.Api.Workspaces;

namespace Provisioning.Dashboard.Components.Shared;

/// <summary>One bar of a build's timeline: a stage (init, plan, apply, …) or one resource's action inside it.</summary>
public sealed record WaterfallBar(string Label, string Detail, bool IsStage, DateTime StartedAt, DateTime EndedAt)
{
    internal static IReadOnlyList<WaterfallBar> From(BuildTimingsResponse timings) =>
    [
        .. timings.Stages.OrderBy(stage => stage.StartedAt).SelectMany(stage => new[]
            {
                new WaterfallBar(stage.Stage, $"{stage.Stage}: {stage.DurationSeconds:0.00} s", true, stage.StartedAt, stage.EndedAt),
            }
            .Concat(timings.Resources
                .Where(resource => resource.Stage == stage.Stage)
                .OrderBy(resource => resource.StartedAt)
                .Select(resource => new WaterfallBar(
                    resource.Resource, $"{resource.Resource} {resource.Action} ({resource.State}): {resource.DurationSeconds:0.00} s", false, resource.StartedAt, resource.EndedAt)))),
    ];
}
