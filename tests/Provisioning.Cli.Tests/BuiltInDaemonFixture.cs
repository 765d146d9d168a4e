namespace Provisioning.Cli.Tests;

/// <summary>A fleet whose only daemon is the one inside `provisioning server` (--provisioner-daemons 2).</summary>
public sealed class BuiltInDaemonFixture : CliFleetFixture
{
    protected override int BuiltInDaemonSlots => 2;
}
