using System.Net;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>The coordinator answered with an error status (as opposed to not answering at all).</summary>
internal sealed class ApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>A status a coordinator or database outage produces, worth asking again for.</summary>
    public bool IsTransient => (int)Status >= 500;
}
