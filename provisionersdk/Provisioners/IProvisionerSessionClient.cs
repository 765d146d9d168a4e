using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// One open session, seen from the daemon: requests go in, responses come out. Send Config first,
/// then one request at a time, reading its Logs and its Complete before sending the next; Cancel
/// may be sent while a request runs. <see cref="ProvisionerSessionClientExtensions.SendAndWaitAsync"/>
/// does this for one request. Disposing ends the session, canceling a request still running.
/// </summary>
public interface IProvisionerSessionClient : IAsyncDisposable
{
    /// <summary>Sends one request.</summary>
    /// <exception cref="ProvisionerSessionException">The session has ended.</exception>
    ValueTask SendAsync(Request request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads responses in order until the session ends. Breaking out of the loop and calling this
    /// again continues where the previous loop stopped.
    /// </summary>
    /// <exception cref="ProvisionerSessionException">The session ended with an error (its message says why).</exception>
    IAsyncEnumerable<Response> ReadAllAsync(CancellationToken cancellationToken = default);
}
