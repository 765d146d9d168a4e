using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

using Npgsql;

using Provisioning.Testing;

namespace Provisioning.Coordinator.Tests;

/// <summary>
/// Runs every <c>sh</c> block of <c>docs/operator-guide.md</c>, in order, in one bash session, as an operator would on one
/// machine: two coordinator replicas on a real PostgreSQL database, a daemon with a key on the second replica, builds
/// through the first, a backup restored into another database and served by a third coordinator, a rolling restart,
/// the troubleshooting commands. A block it cannot run must say which test runs the same commands, and that test
/// must exist. So the guide cannot drift from the product unnoticed.
/// </summary>
public sealed partial class OperatorGuideTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private const string NotRunMarker = "# Not run by the guide's test";
    private static readonly TimeSpan GuideTimeout = TimeSpan.FromMinutes(8);

    private static string GuidePath => Path.Combine(SharedFolder.RepositoryRoot, "docs", "operator-guide.md");

    [Fact]
    public void Guide_BlocksNotRun_NameTheTestsThatRunTheirCommands()
    {
        var skipped = ShellBlocks().Where(block => block.StartsWith(NotRunMarker, StringComparison.Ordinal)).ToList();

        Assert.All(skipped, block =>
        {
            var tests = TestPath().Matches(block).Select(match => match.Value).ToList();
            Assert.NotEmpty(tests);
            Assert.All(tests, test => Assert.True(File.Exists(Path.Combine(SharedFolder.RepositoryRoot, test)), $"The guide names {test}, which does not exist."));
        });
    }

    [Fact]
    public async Task Guide_EveryBlock_RunsAgainstARealFleet()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Runs the guide's shell commands and real processes: Linux only.");
        }

        TerraformRequirement.Require();
        var cancellationToken = TestContext.Current.CancellationToken;
        var database = await postgres.CreateDatabaseAsync("guide", cancellationToken);
        var restore = await postgres.CreateDatabaseAsync("guiderestore", cancellationToken);
        var work = PostgresServerFixture.CreateTemporaryHome();
        try
        {
            File.CreateSymbolicLink(Path.Combine(work, "templates"), Path.Combine(SharedFolder.RepositoryRoot, "templates"));
            var script = new StringBuilder("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n");
            foreach (var block in ShellBlocks().Where(block => !block.StartsWith(NotRunMarker, StringComparison.Ordinal)))
            {
                script.Append(block).Append('\n');
            }

            var start = new ProcessStartInfo("bash", ["-c", script.ToString()])
            {
                WorkingDirectory = work,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var variable in new[] { "PROVISIONING_URL", "PROVISIONING_SESSION_TOKEN", "PROVISIONING_HOME", "PROVISIONING_POSTGRES_URL" })
            {
                start.Environment.Remove(variable);
            }

            start.Environment["PATH"] = string.Join(':', [AppContext.BaseDirectory.TrimEnd('/'), .. PostgresBinDirectories(), start.Environment["PATH"] ?? "/usr/bin:/bin"]);
            start.Environment["PROVISIONING_POSTGRES_URL"] = ToUrl(database);
            start.Environment["RESTORE_URL"] = ToUrl(restore);
            foreach (var name in new[] { "REPLICA_1", "GRPC_1", "REPLICA_2", "GRPC_2", "RESTORED", "RESTORED_GRPC" })
            {
                start.Environment[name] = $"127.0.0.1:{FreePort()}";
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(GuideTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var logs = string.Join('\n', Directory.EnumerateFiles(work, "*.log").Select(log => $"--- {Path.GetFileName(log)} (last lines)\n{string.Join('\n', File.ReadLines(log).TakeLast(15))}"));
            Assert.True(process.ExitCode == 0, $"The guide's commands failed (exit {process.ExitCode}):\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}\n{logs}");
            var output = await stdout;
            Assert.Contains("eu-1", output, StringComparison.Ordinal); // provisioner list
            Assert.Contains("Build #1 (start) of workspace 'demo' succeeded", output, StringComparison.Ordinal);
            Assert.Contains("provisioning.dump", output, StringComparison.Ordinal);
            Assert.Contains("Build #2 (stop) of workspace 'demo' succeeded", output, StringComparison.Ordinal); // after the rolling restart
            Assert.Contains("The workspace is gone.", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The bodies of the guide's <c>```sh</c> blocks, in order.</summary>
    private static List<string> ShellBlocks() =>
        [.. ShellBlock().Matches(File.ReadAllText(GuidePath)).Select(match => match.Groups["body"].Value.TrimEnd())];

    /// <summary>A libpq URL (what pg_dump and the server's --postgres-url both read) for an Npgsql connection string.</summary>
    private static string ToUrl(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"postgres://{Uri.EscapeDataString(builder.Username!)}:{Uri.EscapeDataString(builder.Password ?? string.Empty)}@{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static IEnumerable<string> PostgresBinDirectories() =>
        Directory.Exists("/usr/lib/postgresql") ? Directory.EnumerateDirectories("/usr/lib/postgresql").Select(version => Path.Combine(version, "bin")).Order() : [];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"^```sh\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ShellBlock();

    [GeneratedRegex(@"tests/[\w./-]+\.cs")]
    private static partial Regex TestPath();
}
