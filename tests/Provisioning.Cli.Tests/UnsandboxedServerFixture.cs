namespace Provisioning.Cli.Tests;

/// <summary>
/// `provisioning server` whose built-in daemon cannot be isolated at all: bubblewrap's path names a missing file, and
/// DOCKER_HOST names a socket that does not exist (so the job containers that auto mode prefers are unavailable too,
/// even on a machine where an engine runs and the job image was built, as in CI).
/// </summary>
public sealed class UnsandboxedServerFixture : CliFleetFixture
{
    public const string MissingBubblewrap = "/nonexistent/provisioning-tests/bwrap";

    public const string MissingDockerEngine = "unix:///nonexistent/provisioning-tests/docker.sock";

    protected override int BuiltInDaemonSlots => 1;

    protected override IReadOnlyList<string> ExtraServerArguments => ["--bwrap-path", MissingBubblewrap];

    protected override IReadOnlyDictionary<string, string>? ServerEnvironment => new Dictionary<string, string> { ["DOCKER_HOST"] = MissingDockerEngine };
}
