namespace Provisioning.Cli.Tests;

/// <summary>`provisioning server` whose built-in daemon cannot be sandboxed: bubblewrap's path names a missing file.</summary>
public sealed class UnsandboxedServerFixture : CliFleetFixture
{
    public const string MissingBubblewrap = "/nonexistent/provisioning-tests/bwrap";

    protected override int BuiltInDaemonSlots => 1;

    protected override IReadOnlyList<string> ExtraServerArguments => ["--bwrap-path", MissingBubblewrap];
}
