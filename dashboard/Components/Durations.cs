using System.Globalization;

using Provisioning.Coordinator.Api.Jobs;

namespace Provisioning.Dashboard.Components;

/// <summary>How long a job ran (or has been running), as a short text.</summary>
internal static class Durations
{
    public static string Of(JobResponse job)
    {
        if (job.StartedAt is not { } started)
        {
            return "—";
        }

        var end = job.CompletedAt ?? job.CanceledAt ?? DateTime.UtcNow;
        return Format(end - started);
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalSeconds < 60 ? duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : duration.TotalMinutes < 60 ? $"{(int)duration.TotalMinutes} min {duration.Seconds} s"
        : $"{(int)duration.TotalHours} h {duration.Minutes} min";
}
