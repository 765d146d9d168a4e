namespace Provisioning.Coordinator.Queueing;

/// <summary>The error a daemon reported, in the form Hangfire's Failed state records (type, message).</summary>
public sealed class ProvisionerJobFailedException(string message) : Exception(message);
