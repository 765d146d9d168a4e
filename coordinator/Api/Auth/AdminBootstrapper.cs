using Dapper;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// On the first start (no user yet) creates the admin user and an API token, and writes the token to
/// $PROVISIONING_HOME/session (mode 0600), so that the operator and the CLI on this machine can call the API.
/// Replicas starting together on one database create one admin between them (an advisory lock).
/// </summary>
internal sealed partial class AdminBootstrapper(CoordinatorDatabase database, IOptions<CoordinatorOptions> options, ILogger<AdminBootstrapper> logger) : IHostedService
{
    public const string AdminUsername = "admin";
    public const string SessionFileName = "session";

    private static readonly TimeSpan TokenLifetime = TimeSpan.FromDays(365);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtext('provisioning.admin_bootstrap'))", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var users = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM users", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (users > 0)
        {
            return;
        }

        var userId = await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
            "INSERT INTO users (username, email, name, is_admin, role) VALUES (@Username, 'admin@localhost', 'Administrator', true, 'admin') RETURNING id",
            new { Username = AdminUsername },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        var token = await ApiTokens.CreateAsync(connection, transaction, userId, "first-start session", TokenLifetime, cancellationToken).ConfigureAwait(false);

        // Written before the commit: if the file cannot be written, no admin exists whose token nobody has.
        var path = SessionPath(options.Value.HomeDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await WriteOwnerOnlyAsync(path, token, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        LogAdminCreated(logger, AdminUsername, path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static string SessionPath(string homeDirectory) => Path.Combine(homeDirectory, SessionFileName);

    private static async Task WriteOwnerOnlyAsync(string path, string token, CancellationToken cancellationToken)
    {
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, fileOptions);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(token + "\n"), cancellationToken).ConfigureAwait(false);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to a new file; an existing one (an older session) is tightened too.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Created the first admin user '{Username}'; its API token is in {SessionPath} (readable by this user only)")]
    private static partial void LogAdminCreated(ILogger logger, string username, string sessionPath);
}
