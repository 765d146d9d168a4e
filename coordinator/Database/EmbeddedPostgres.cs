using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

using CliWrap;
using CliWrap.Buffered;

using Microsoft.Extensions.Logging;

using Npgsql;

namespace Provisioning.Coordinator.Database;

/// <summary>
/// The built-in PostgreSQL: a cluster initialised with the machine's own server programs under
/// <c>{home}/postgres</c>, listening on 127.0.0.1 only, on a port chosen once and kept (with a generated
/// password) for the next start. As root the server runs as the <c>postgres</c> system user, because
/// PostgreSQL refuses to run as root; when that user cannot traverse the home directory (e.g. under
/// /root, mode 700) the cluster's data lives in a postgres-owned directory under
/// /var/lib/postgresql/provisioning instead, recorded in <c>{home}/postgres/data-directory</c>, so that
/// the home directory's permissions are never loosened.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string DatabaseName = "provisioning";
    private const string SuperUser = "provisioning";
    private const string SystemUser = "postgres";
    private const string RelocatedRoot = "/var/lib/postgresql/provisioning";

    private readonly PostgresBinaries _binaries;
    private readonly bool _runAsPostgresUser;
    private readonly ILogger _logger;
    private int _stopped;

    private EmbeddedPostgres(PostgresBinaries binaries, bool runAsPostgresUser, string dataDirectory, int port, string password, ILogger logger)
    {
        _binaries = binaries;
        _runAsPostgresUser = runAsPostgresUser;
        _logger = logger;
        DataDirectory = dataDirectory;
        Port = port;
        Password = password;
    }

    public string DataDirectory { get; }

    public int Port { get; }

    internal string Password { get; }

    /// <summary>Connection string of the <see cref="DatabaseName"/> database.</summary>
    public string ConnectionString => ConnectionStringFor(DatabaseName);

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Password = Password,
        Database = database,
    }.ConnectionString;

    /// <summary>Initialises the cluster when there is none, starts it (or adopts it when it already runs) and waits until it accepts connections.</summary>
    public static async Task<EmbeddedPostgres> StartAsync(string homeDirectory, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(homeDirectory);
        ArgumentNullException.ThrowIfNull(logger);

        var binaries = PostgresBinaries.Find();
        var runAsPostgresUser = Environment.IsPrivilegedProcess;
        var stateDirectory = Path.GetFullPath(Path.Combine(homeDirectory, "postgres"));
        Directory.CreateDirectory(stateDirectory);

        var dataDirectory = await ResolveDataDirectoryAsync(stateDirectory, runAsPostgresUser, logger, cancellationToken).ConfigureAwait(false);
        var password = ReadOrCreateSecret(Path.Combine(stateDirectory, "password"));
        var instance = new EmbeddedPostgres(binaries, runAsPostgresUser, dataDirectory, ReadPort(stateDirectory), password, logger);

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            await instance.InitialiseAsync(cancellationToken).ConfigureAwait(false);
        }

        return await instance.StartServerAsync(stateDirectory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server (fast shutdown: open sessions are disconnected, nothing is lost).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        EmbeddedPostgresLog.Stopping(_logger, DataDirectory);
        NpgsqlConnection.ClearAllPools();
        var result = await RunAsync(_binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            EmbeddedPostgresLog.StopFailed(_logger, (result.StandardError + result.StandardOutput).Trim());
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static async Task<string> ResolveDataDirectoryAsync(string stateDirectory, bool runAsPostgresUser, ILogger logger, CancellationToken cancellationToken)
    {
        var pointer = Path.Combine(stateDirectory, "data-directory");
        if (File.Exists(pointer))
        {
            return (await File.ReadAllTextAsync(pointer, cancellationToken).ConfigureAwait(false)).Trim();
        }

        var dataDirectory = Path.Combine(stateDirectory, "data");
        if (!runAsPostgresUser)
        {
            Directory.CreateDirectory(dataDirectory);
            SetMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return dataDirectory;
        }

        // The state directory holds only the password (mode 600) besides the data: letting others
        // traverse it is what lets the postgres user reach the data directory inside.
        AddTraverseForOthers(stateDirectory);
        var reachable = await Cli.Wrap("runuser")
            .WithArguments(["-u", SystemUser, "--", "test", "-w", stateDirectory, "-o", "-x", stateDirectory])
            .WithWorkingDirectory("/")
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken)
            .ConfigureAwait(false);
        if (reachable.ExitCode != 0)
        {
            var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stateDirectory)))[..16];
            dataDirectory = Path.Combine(RelocatedRoot, key, "data");
            EmbeddedPostgresLog.DataOutsideHome(logger, stateDirectory, dataDirectory);
        }

        Directory.CreateDirectory(dataDirectory);
        await ChownToPostgresAsync(dataDirectory, cancellationToken).ConfigureAwait(false);
        if (reachable.ExitCode != 0)
        {
            await ChownToPostgresAsync(Path.GetDirectoryName(dataDirectory)!, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(pointer, dataDirectory + "\n", cancellationToken).ConfigureAwait(false);
        }

        SetMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dataDirectory;
    }

    // The built-in cluster needs a Unix-like system (initdb refuses to run elsewhere the way we call it).
    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static void AddTraverseForOthers(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }

    private static async Task ChownToPostgresAsync(string path, CancellationToken cancellationToken)
    {
        var result = await Cli.Wrap("chown")
            .WithArguments([$"{SystemUser}:{SystemUser}", path])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new EmbeddedPostgresException(
                $"Could not give {path} to the '{SystemUser}' user: {result.StandardError.Trim()}. "
                + "The built-in PostgreSQL runs as that user when the coordinator runs as root; create the user (the postgresql package does) or pass --postgres-url.");
        }
    }

    private static string ReadOrCreateSecret(string path)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        File.WriteAllText(path, secret + "\n");
        SetMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return secret;
    }

    private static int ReadPort(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "port");
        if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
        {
            return port;
        }

        port = FindFreePort();
        File.WriteAllText(path, port.ToString(CultureInfo.InvariantCulture) + "\n");
        return port;
    }

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task InitialiseAsync(CancellationToken cancellationToken)
    {
        EmbeddedPostgresLog.Initialising(_logger, DataDirectory, _binaries.Directory);

        // initdb reads the superuser's password from a file the server's user can read; it lives only as
        // long as initdb runs.
        var passwordFile = Path.Combine(Path.GetTempPath(), $"provisioning-pw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, Password, cancellationToken).ConfigureAwait(false);
        SetMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            if (_runAsPostgresUser)
            {
                await ChownToPostgresAsync(passwordFile, cancellationToken).ConfigureAwait(false);
            }

            var result = await RunAsync(
                _binaries.InitDb,
                ["-D", DataDirectory, "-U", SuperUser, $"--pwfile={passwordFile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions"],
                cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                throw new EmbeddedPostgresException(
                    $"initdb failed for {DataDirectory} (exit code {result.ExitCode}): {(result.StandardError + result.StandardOutput).Trim()}. "
                    + "Make sure the directory is empty and writable, or pass --postgres-url to use an existing PostgreSQL.");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }

        // Loopback only, no Unix socket (whose default directory may not exist or be writable); the port is
        // given at each start, so that it can move when another program took it.
        var settings = """

            # Written by the Provisioning coordinator.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''
            max_connections = 300
            """;
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EmbeddedPostgres> StartServerAsync(string stateDirectory, CancellationToken cancellationToken)
    {
        var status = await RunAsync(_binaries.PgCtl, ["status", "-D", DataDirectory], cancellationToken).ConfigureAwait(false);
        if (status.ExitCode == 0 && ReadRunningPort() is { } runningPort)
        {
            EmbeddedPostgresLog.AlreadyRunning(_logger, DataDirectory, runningPort);
            var adopted = new EmbeddedPostgres(_binaries, _runAsPostgresUser, DataDirectory, runningPort, Password, _logger);
            await adopted.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
            return adopted;
        }

        var instance = this;
        if (!IsPortFree(Port))
        {
            var newPort = FindFreePort();
            EmbeddedPostgresLog.PortMoved(_logger, Port, newPort);
            await File.WriteAllTextAsync(Path.Combine(stateDirectory, "port"), newPort.ToString(CultureInfo.InvariantCulture) + "\n", cancellationToken).ConfigureAwait(false);
            instance = new EmbeddedPostgres(_binaries, _runAsPostgresUser, DataDirectory, newPort, Password, _logger);
        }

        EmbeddedPostgresLog.Starting(_logger, instance.Port, DataDirectory);
        var logFile = Path.Combine(DataDirectory, "server.log");
        var start = await RunAsync(
            _binaries.PgCtl,
            ["start", "-D", DataDirectory, "-w", "-t", "120", "-l", logFile, "-o", $"-p {instance.Port.ToString(CultureInfo.InvariantCulture)}"],
            cancellationToken).ConfigureAwait(false);
        if (start.ExitCode != 0)
        {
            var log = File.Exists(logFile) ? string.Join('\n', (await File.ReadAllLinesAsync(logFile, cancellationToken).ConfigureAwait(false)).TakeLast(10)) : string.Empty;
            throw new EmbeddedPostgresException(
                $"The built-in PostgreSQL did not start (pg_ctl exit code {start.ExitCode}): {(start.StandardError + start.StandardOutput).Trim()}\n{log}\n"
                + $"See {logFile}; or pass --postgres-url to use an existing PostgreSQL.");
        }

        await instance.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        return instance;
    }

    /// <summary>The port in postmaster.pid (its fourth line) of a server that is running.</summary>
    private int? ReadRunningPort()
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(DataDirectory, "postmaster.pid"));
            return lines.Length > 3 && int.TryParse(lines[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres"));
                await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = DatabaseName } } };
                if (await exists.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false) is null)
                {
                    await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\"", connection);
                    await create.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
                }

                return;
            }
            catch (NpgsqlException) when (!timeout.IsCancellationRequested)
            {
                // The server is still starting up (or recovering); ask again shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new EmbeddedPostgresException($"The built-in PostgreSQL on port {Port} did not accept connections within 60 seconds; see {Path.Combine(DataDirectory, "server.log")}.");
            }
        }
    }

    private Task<BufferedCommandResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var command = _runAsPostgresUser
            ? Cli.Wrap("runuser").WithArguments(["-u", SystemUser, "--", program, .. arguments])
            : Cli.Wrap(program).WithArguments(arguments);
        return command
            .WithWorkingDirectory("/")
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken)
            .Task;
    }
}
