using System.Net;

namespace Provisioning.Cli.Client;

/// <summary>The coordinator refused a request; <see cref="Exception.Message"/> is its ProblemDetails in one line.</summary>
internal sealed class ProvisioningApiException : Exception
{
    public ProvisioningApiException()
    {
    }

    public ProvisioningApiException(string message)
        : base(message)
    {
    }

    public ProvisioningApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ProvisioningApiException(HttpStatusCode status, string message)
        : base(message)
    {
        Status = status;
    }

    public HttpStatusCode Status { get; }
}
