namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// The daemon's view of a provisioner: something that opens sessions, whether the provisioner runs
/// in the same process (<see cref="InProcessProvisionerConnection"/>) or behind a Unix socket
/// (<see cref="UnixSocketProvisionerConnection"/>).
/// </summary>
public interface IProvisionerConnection
{
    /// <summary>Opens a new session; send Config first.</summary>
    /// <param name="cancellationToken">Stops opening the session (not the session itself).</param>
    /// <returns>The session; dispose it to end the session.</returns>
    Task<IProvisionerSessionClient> OpenSessionAsync(CancellationToken cancellationToken = default);
}
