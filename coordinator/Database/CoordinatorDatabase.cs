using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Npgsql;

namespace Provisioning.Coordinator.Database;

/// <summary>
/// The coordinator's database for the life of the host: the configured PostgreSQL, or the built-in one,
/// migrated before anything else starts (it starts in <see cref="StartingAsync"/>, ahead of every hosted
/// service's StartAsync, the web server's included).
/// </summary>
public sealed class CoordinatorDatabase(IOptions<CoordinatorOptions> options, ILoggerFactory loggerFactory) : IHostedLifecycleService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<CoordinatorDatabase>();
    private EmbeddedPostgres? _embedded;
    private NpgsqlDataSource? _dataSource;
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw NotStarted();

    public NpgsqlDataSource DataSource => _dataSource ?? throw NotStarted();

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is not null)
        {
            return;
        }

        var settings = options.Value;
        if (!string.IsNullOrWhiteSpace(settings.PostgresUrl))
        {
            _connectionString = PostgresConnectionString.Parse(settings.PostgresUrl).ConnectionString;
        }
        else
        {
            _embedded = await EmbeddedPostgres.StartAsync(settings.HomeDirectory, _logger, cancellationToken).ConfigureAwait(false);
            _connectionString = _embedded.ConnectionString;
        }

        DatabaseMigrator.Migrate(_connectionString, _logger);
        var builder = new NpgsqlDataSourceBuilder(_connectionString);
        // The queue's hot statements (enqueue, claim, complete) run hundreds of times a second with large CTEs:
        // prepared once per connection, PostgreSQL skips parsing and planning them on every call.
        builder.ConnectionStringBuilder.MaxAutoPrepare = Math.Max(builder.ConnectionStringBuilder.MaxAutoPrepare, 64);
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        // A pooled connection is returned several times per job; resetting it costs three statements (and three
        // transactions) each time, and no code of this data source leaves session state behind (no SET, no session
        // advisory lock; the LISTEN connections live until they break). See docs/decisions/0008-performance-where-users-feel-it.md.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        _dataSource = builder.Build();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After every other service stopped: close connections, then stop the built-in PostgreSQL.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
            _dataSource = null;
        }

        if (_embedded is not null)
        {
            await _embedded.StopAsync(cancellationToken).ConfigureAwait(false);
            _embedded = null;
        }
    }

    public async ValueTask DisposeAsync() => await StoppedAsync(CancellationToken.None).ConfigureAwait(false);

    private static InvalidOperationException NotStarted() =>
        new("The coordinator's database is not started yet: it starts with the host (register it with AddCoordinator and start the host first).");
}
