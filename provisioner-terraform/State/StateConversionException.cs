namespace Provisioning.Terraform.State;

/// <summary>
/// The Terraform state cannot be turned into resources, because the template breaks a rule of the
/// resource model (an invalid agent name, a duplicated app slug, …). The message names the offending
/// value and, where the reference system has one, uses its wording so template authors see the same text.
/// </summary>
public sealed class StateConversionException : Exception
{
    public StateConversionException()
    {
    }

    public StateConversionException(string message)
        : base(message)
    {
    }

    public StateConversionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
