namespace Provisioning.Examples.EchoProvisioner;

/// <summary>The template's echo.json is missing or wrong; the message says what to change.</summary>
internal sealed class EchoTemplateException : Exception
{
    public EchoTemplateException(string message)
        : base(message)
    {
    }

    public EchoTemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
