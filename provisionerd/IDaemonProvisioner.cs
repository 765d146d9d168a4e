using Provisioning.Sdk.Provisioners;

namespace Provisioning.Daemon;

/// <summary>
/// A provisioner the daemon runs jobs with: checked once before the daemon registers, then asked
/// for a connection per job, whose sessions keep their files under that job's work directory (which
/// the daemon removes when the job ends).
/// </summary>
public interface IDaemonProvisioner
{
    /// <summary>The provisioner type announced to the coordinator, e.g. <c>terraform</c>.</summary>
    string Type { get; }

    /// <summary>Checks that the provisioner can run (e.g. a supported Terraform); throws with a message that says how to fix it.</summary>
    /// <returns>A one-line description for the daemon's log, e.g. the Terraform version and path.</returns>
    Task<string> CheckAsync(CancellationToken cancellationToken = default);

    /// <summary>A connection whose sessions work under <paramref name="workDirectory"/>.</summary>
    IProvisionerConnection Connect(string workDirectory);

    /// <summary>
    /// Faults (with a <see cref="ProvisionerDaemonException"/>) when the provisioner stopped for good while the daemon
    /// runs, e.g. a supervised binary that keeps exiting: the daemon then stops with that exception. Never completes for
    /// provisioners that cannot fail that way.
    /// </summary>
    Task Failure => Never;

    private static Task Never { get; } = new TaskCompletionSource().Task;
}
