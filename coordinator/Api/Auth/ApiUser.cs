using System.Reflection;
using System.Security.Claims;

using Microsoft.AspNetCore.Http;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// The authenticated caller of an API request, as <see cref="ApiTokenAuthenticationHandler"/> established it;
/// endpoints take it as a parameter and hand it to the data-access layer (Access/), which checks it on every
/// read and write. Endpoints under /api/v1 run only for authenticated callers (the default authorization
/// policy), so <see cref="Anonymous"/> reaches none of them.
/// </summary>
public sealed record ApiUser(Guid Id, string Username, string Email, string Role)
{
    /// <summary>No valid token: holds no role, so every check fails.</summary>
    internal static ApiUser Anonymous { get; } = new(Guid.Empty, string.Empty, string.Empty, string.Empty);

    public bool IsAuthenticated => !ReferenceEquals(this, Anonymous);

    public bool IsAdmin => IsAuthenticated && Role == ApiRoles.Admin;

    /// <summary>Template administrators (and admins) manage templates and may read any workspace and its state.</summary>
    public bool IsTemplateAdmin => IsAuthenticated && ApiRoles.Includes(Role, ApiRoles.TemplateAdmin);

    /// <summary>403 unless the caller holds <paramref name="role"/>; for the file endpoints until the file store moves behind the data-access layer.</summary>
    public void Require(string role) => Access.AccessPolicy.RequireRole(this, role);

    public static ValueTask<ApiUser?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult<ApiUser?>(FromPrincipal(context.User));
    }

    /// <summary>The caller a principal of <see cref="ApiTokenAuthenticationHandler"/> stands for; <see cref="Anonymous"/> for any other.</summary>
    internal static ApiUser FromPrincipal(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is not { IsAuthenticated: true, AuthenticationType: ApiTokenAuthenticationHandler.SchemeName }
            || !Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
        {
            return Anonymous;
        }

        return new ApiUser(id, principal.FindFirstValue(ClaimTypes.Name) ?? string.Empty, principal.FindFirstValue(ClaimTypes.Email) ?? string.Empty, principal.FindFirstValue(ClaimTypes.Role) ?? string.Empty);
    }

    internal ClaimsPrincipal ToPrincipal(string scheme) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, Id.ToString()),
            new Claim(ClaimTypes.Name, Username),
            new Claim(ClaimTypes.Email, Email),
            new Claim(ClaimTypes.Role, Role),
        ],
        scheme));
}
