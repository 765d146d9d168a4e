namespace Provisioning.Cli.Tests;

/// <summary>
/// A fleet whose only daemon is the one inside `provisioning server` (2 slots, its default sandbox), started with a
/// variable of its own that no template may see.
/// </summary>
public sealed class SandboxedServerFixture : CliFleetFixture
{
    /// <summary>A value only the server's environment holds.</summary>
    public string ServerSecret { get; } = "server-only-" + Guid.NewGuid().ToString("N");

    protected override int BuiltInDaemonSlots => 2;

    protected override IReadOnlyDictionary<string, string>? ServerEnvironment =>
        new Dictionary<string, string> { ["SERVER_ONLY_SECRET"] = ServerSecret };
}
