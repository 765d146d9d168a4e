using Provisioning.Coordinator.Api.Provisioners;

namespace Provisioning.Dashboard.Components.Shared;

/// <summary>One minute of the fleet chart (<see cref="QueueChart"/>): jobs pending at its end, jobs ended in it.</summary>
public sealed record ChartPoint(DateTime Minute, int Depth, int Completed)
{
    internal static ChartPoint From(QueueHistoryPoint point) => new(point.Minute, point.Depth, point.Completed);
}
