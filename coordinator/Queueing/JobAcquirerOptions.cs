namespace Provisioning.Coordinator.Queueing;

/// <summary>Settings of <see cref="JobAcquirer"/>.</summary>
public sealed class JobAcquirerOptions
{
    /// <summary>
    /// How often the list of queues is re-read, to notice tag sets that another replica created. Queues
    /// created by this process are noticed at once. Default: 5 seconds.
    /// </summary>
    public TimeSpan QueueRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
