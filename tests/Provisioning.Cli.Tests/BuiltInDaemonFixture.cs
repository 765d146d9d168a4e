using System.Reflection;

namespace Provisioning.Cli.Tests;

/// <summary>
/// A fleet whose only daemon is the one inside `provisioning server` (--provisioner-daemons 2), which also runs the echo
/// example as a provisioner binary (--provisioner echo=PATH).
/// </summary>
public sealed class BuiltInDaemonFixture : CliFleetFixture
{
    public static string EchoExecutable { get; } = typeof(BuiltInDaemonFixture).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "EchoProvisionerExecutable").Value!;

    protected override int BuiltInDaemonSlots => 2;

    protected override IReadOnlyList<string> ExtraServerArguments => ["--provisioner", $"echo={EchoExecutable}"];
}
