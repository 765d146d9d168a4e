namespace Provisioning.Bench;

/// <summary>Bad command line; the message says what to change (null: print the usage only).</summary>
internal sealed class BenchUsageException(string? message) : Exception(message)
{
    public bool HasMessage { get; } = message is not null;
}
