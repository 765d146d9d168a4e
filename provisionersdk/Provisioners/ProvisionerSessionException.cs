namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// A provisioner session ended with an error: the protocol was broken (no Config first, a second
/// request while one is running), the template archive was unsafe, or the provisioner could not be
/// reached. The message says which, and what to do.
/// </summary>
public sealed class ProvisionerSessionException : Exception
{
    /// <summary>Creates an exception without details.</summary>
    public ProvisionerSessionException()
        : base("The provisioner session ended with an error.")
    {
    }

    /// <summary>Creates an exception with a message that says what went wrong and how to fix it.</summary>
    public ProvisionerSessionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public ProvisionerSessionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
