using Microsoft.AspNetCore.Http;

using Npgsql;

namespace Provisioning.Coordinator.Api;

/// <summary>Turns <see cref="ApiProblemException"/>s (and body binding failures) into ProblemDetails JSON.</summary>
internal sealed class ApiProblemFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ApiProblemException problem)
        {
            return problem.ToResult();
        }
        catch (BadHttpRequestException exception)
        {
            return new ApiProblemException(exception.StatusCode, "Bad request", exception.Message).ToResult();
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent request won a race the checks before the insert could not see.
            return ApiProblemException.Conflict($"The request conflicts with a concurrent change ({exception.ConstraintName}); retry it.").ToResult();
        }
    }
}
