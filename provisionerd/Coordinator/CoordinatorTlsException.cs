namespace Provisioning.Daemon.Coordinator;

/// <summary>A TLS setting of a client of the coordinator that cannot be used; the message says which and why.</summary>
public sealed class CoordinatorTlsException(string message, Exception? innerException) : Exception(message, innerException);
