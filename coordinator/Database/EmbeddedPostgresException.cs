namespace Provisioning.Coordinator.Database;

/// <summary>The built-in PostgreSQL could not be found, initialised or started; the message says what to do.</summary>
public sealed class EmbeddedPostgresException : Exception
{
    public EmbeddedPostgresException(string message)
        : base(message)
    {
    }

    public EmbeddedPostgresException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
