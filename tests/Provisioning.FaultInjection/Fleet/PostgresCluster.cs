using System.Globalization;
using System.Security.Cryptography;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// The run's own PostgreSQL cluster (initdb / pg_ctl, as coordinator/Database/EmbeddedPostgres.cs does), so that a
/// fault can restart it under the coordinator (which is given --postgres-url). It listens on 127.0.0.1 only, on a
/// free port, with a generated password. PostgreSQL refuses to run as root: as root, its programs run as the
/// `postgres` system user through runuser, and its directory is given to that user.
/// </summary>
internal sealed class PostgresCluster
{
    public const string User = "provisioning";
    public const string Database = "provisioning";
    private const string SystemUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly string _binaries;
    private readonly bool _asPostgresUser = Environment.IsPrivilegedProcess;
    private readonly string _password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public PostgresCluster(string dataDirectory, int port)
    {
        DataDirectory = dataDirectory;
        Port = port;
        _binaries = FindBinaries();
    }

    public string DataDirectory { get; }

    public int Port { get; }

    public string LogFile => Path.Combine(DataDirectory, "server.log");

    /// <summary>The URL the coordinator gets as --postgres-url.</summary>
    public string Url => string.Create(CultureInfo.InvariantCulture, $"postgres://{User}:{_password}@127.0.0.1:{Port}/{Database}");

    /// <summary>Whether the PostgreSQL server programs are here (the suite cannot run without them).</summary>
    public static bool Available => TryFindBinaries() is not null;

    public async Task InitialiseAndStartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(DataDirectory);
        var passwordFile = Path.Combine(Path.GetDirectoryName(DataDirectory)!, "pgpass-init");
        await File.WriteAllTextAsync(passwordFile, _password, cancellationToken).ConfigureAwait(false);
        SetMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            if (_asPostgresUser)
            {
                await CheckAsync(await CommandRunner.RunAsync("chown", ["-R", $"{SystemUser}:{SystemUser}", DataDirectory, passwordFile], CommandTimeout, cancellationToken: cancellationToken).ConfigureAwait(false), "chown").ConfigureAwait(false);
            }

            SetMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await CheckAsync(
                await RunServerProgramAsync("initdb", ["-D", DataDirectory, "-U", User, $"--pwfile={passwordFile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions", "--no-sync"], cancellationToken).ConfigureAwait(false),
                "initdb").ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        // Loopback only and no Unix socket; fsync off, because a throwaway cluster need not survive a power cut and the
        // machine is shared (a restart still goes through a clean shutdown and recovery).
        var settings = string.Create(CultureInfo.InvariantCulture, $"""

            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = ''
            max_connections = 200
            fsync = off
            """);
        // Appended by this process (root may write the postgres user's file; appending keeps its owner).
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings, cancellationToken).ConfigureAwait(false);
        await CheckAsync(await RunServerProgramAsync("pg_ctl", ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", LogFile], cancellationToken).ConfigureAwait(false), "pg_ctl start").ConfigureAwait(false);
        var created = await CommandRunner.RunAsync(
            Path.Combine(_binaries, "createdb"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, Database],
            CommandTimeout,
            new Dictionary<string, string?> { ["PGPASSWORD"] = _password },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await CheckAsync(created, "createdb").ConfigureAwait(false);
    }

    /// <summary>`pg_ctl restart -m fast`: every session is disconnected, the server shuts down cleanly and starts again.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await CheckAsync(await RunServerProgramAsync("pg_ctl", ["restart", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "-l", LogFile], cancellationToken).ConfigureAwait(false), "pg_ctl restart").ConfigureAwait(false);
    }

    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken) =>
        (await RunServerProgramAsync("pg_ctl", ["status", "-D", DataDirectory], cancellationToken).ConfigureAwait(false)).ExitCode == 0;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        await CheckAsync(await RunServerProgramAsync("pg_ctl", ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", LogFile], cancellationToken).ConfigureAwait(false), "pg_ctl start").ConfigureAwait(false);

    /// <summary>Stops the server at once (immediate mode: the cluster is thrown away afterwards).</summary>
    public Task StopAsync() => StopAsync(DataDirectory);

    /// <summary>Stops whatever server runs on <paramref name="dataDirectory"/>; used on leftovers of an earlier run too.</summary>
    public static async Task StopAsync(string dataDirectory)
    {
        if (!File.Exists(Path.Combine(dataDirectory, "postmaster.pid")) || TryFindBinaries() is not { } binaries)
        {
            return;
        }

        var pgCtl = Path.Combine(binaries, "pg_ctl");
        string[] arguments = ["stop", "-D", dataDirectory, "-m", "immediate", "-w", "-t", "30"];
        await (Environment.IsPrivilegedProcess
            ? CommandRunner.RunAsync("runuser", ["-u", SystemUser, "--", pgCtl, .. arguments], CommandTimeout)
            : CommandRunner.RunAsync(pgCtl, arguments, CommandTimeout)).ConfigureAwait(false);
    }

    private async Task<CommandResult> RunServerProgramAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binaries, program);
        return _asPostgresUser
            ? await CommandRunner.RunAsync("runuser", ["-u", SystemUser, "--", path, .. arguments], CommandTimeout, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await CommandRunner.RunAsync(path, arguments, CommandTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task CheckAsync(CommandResult result, string what)
    {
        if (result.ExitCode == 0)
        {
            return;
        }

        var log = File.Exists(LogFile) ? string.Join('\n', (await File.ReadAllLinesAsync(LogFile).ConfigureAwait(false)).TakeLast(10)) : string.Empty;
        throw new InvalidOperationException($"{what} failed for the fault suite's PostgreSQL in {DataDirectory} (exit code {result.ExitCode}): {result.Output}\n{log}");
    }

    // The suite runs on Linux only (Program.cs and the test check); the guard is for the platform analyzer.
    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static string FindBinaries() =>
        TryFindBinaries() ?? throw new InvalidOperationException("The PostgreSQL server programs (initdb, pg_ctl) are not installed: apt-get install postgresql, or put their directory on PATH.");

    private static string? TryFindBinaries()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(directory => File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")));
        if (onPath is not null)
        {
            // Often symbolic links (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb): createdb lives beside the target.
            var initdb = new FileInfo(Path.Combine(onPath, "initdb"));
            return Path.GetDirectoryName(initdb.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb.FullName);
        }

        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0)
                .FirstOrDefault()
            : null;
    }
}
