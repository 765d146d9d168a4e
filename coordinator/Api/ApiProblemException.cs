using Microsoft.AspNetCore.Http;

namespace Provisioning.Coordinator.Api;

/// <summary>
/// A refused request: the API edge turns it into ProblemDetails JSON (title, status, detail and, for
/// bad input, the field and the reason). Thrown before anything is written, so a refused request changes nothing.
/// </summary>
public sealed class ApiProblemException : Exception
{
    public ApiProblemException()
        : this(StatusCodes.Status400BadRequest, "Bad request", "The request is invalid.")
    {
    }

    public ApiProblemException(string message)
        : this(StatusCodes.Status400BadRequest, "Bad request", message)
    {
    }

    public ApiProblemException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = StatusCodes.Status400BadRequest;
        Title = "Bad request";
    }

    public ApiProblemException(int status, string title, string detail, string? field = null)
        : base(detail)
    {
        Status = status;
        Title = title;
        Field = field;
    }

    public int Status { get; }

    public string Title { get; }

    /// <summary>The request field at fault (snake_case, as sent), when the problem is about one field.</summary>
    public string? Field { get; }

    public static ApiProblemException Invalid(string field, string reason) =>
        new(StatusCodes.Status400BadRequest, "Invalid request", reason, field);

    public static ApiProblemException NotFound(string what) =>
        new(StatusCodes.Status404NotFound, "Not found", what);

    public static ApiProblemException Conflict(string detail) =>
        new(StatusCodes.Status409Conflict, "Conflict", detail);

    public static ApiProblemException Forbidden(string detail) =>
        new(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public IResult ToResult()
    {
        if (Field is null)
        {
            return TypedResults.Problem(detail: Message, statusCode: Status, title: Title);
        }

        return TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { [Field] = [Message] })
        {
            Status = Status,
            Title = Title,
            Detail = Message,
        });
    }
}
