using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

using Npgsql;

namespace Provisioning.Coordinator.Api;

/// <summary>
/// Answers 503 with a ProblemDetails body saying the database cannot be reached, instead of an empty 500, when a request
/// fails because PostgreSQL is down, paused or partitioned away. It sits at the front of the pipeline (see
/// <see cref="ApiStartupFilter"/>) because the first query of a request is usually the authentication of its token,
/// which runs before any endpoint filter could catch it. Found by the container fault tests: with PostgreSQL paused,
/// <c>provisioning list</c> ended in "500 Internal Server Error" and the server logged an unhandled exception. Clients
/// and daemons retry a 503; nothing was changed by the failed request (its transaction never committed).
/// </summary>
internal sealed partial class DatabaseUnavailableHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client is told to wait before it asks again.</summary>
    private const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsDatabaseUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        DatabaseUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database unavailable",
                Detail = $"The coordinator cannot reach its PostgreSQL database ({exception.GetBaseException().Message}); nothing was changed. Retry in a few seconds; if it lasts, check the database (see /readyz).",
            },
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// A failure to talk to PostgreSQL at all (connect, I/O, timeout), as opposed to an error PostgreSQL answered
    /// (<see cref="PostgresException"/>: a constraint, a bad query), which stays a 500 so it is not mistaken for an outage.
    /// </summary>
    public static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is NpgsqlException npgsql and not PostgresException)
            {
                return npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: the database cannot be reached ({Reason})")]
    private static partial void DatabaseUnavailable(ILogger logger, string method, string path, string reason);
}
