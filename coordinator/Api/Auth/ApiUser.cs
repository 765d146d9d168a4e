using System.Reflection;

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Provisioning.Coordinator.Api.Auth;

/// <summary>
/// The authenticated caller of an API request; endpoints take it as a parameter. Binding runs before
/// endpoint filters, so binding resolves the token (once per request) and yields <see cref="Anonymous"/>
/// when there is none; <see cref="ApiAuthenticationFilter"/> then refuses the request with 401 before the
/// endpoint runs.
/// </summary>
public sealed record ApiUser(Guid Id, string Username, string Email, string Role)
{
    private static readonly object ItemKey = new();

    /// <summary>No valid token: holds no role, so every role check fails.</summary>
    internal static ApiUser Anonymous { get; } = new(Guid.Empty, string.Empty, string.Empty, string.Empty);

    public bool IsAuthenticated => !ReferenceEquals(this, Anonymous);

    public bool IsAdmin => Role == ApiRoles.Admin;

    /// <summary>Template administrators (and admins) manage templates and may read any workspace and its state.</summary>
    public bool IsTemplateAdmin => ApiRoles.Includes(Role, ApiRoles.TemplateAdmin);

    public void Require(string role)
    {
        if (!ApiRoles.Includes(Role, role))
        {
            throw ApiProblemException.Forbidden($"This needs the '{role}' role; user '{Username}' is '{Role}'. Ask an admin to grant it.");
        }
    }

    public static async ValueTask<ApiUser?> BindAsync(HttpContext context, ParameterInfo parameter) => await ResolveAsync(context).ConfigureAwait(false);

    /// <summary>The request's caller (<see cref="Anonymous"/> without a valid token), resolved once per request.</summary>
    internal static async ValueTask<ApiUser> ResolveAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ItemKey, out var cached) && cached is ApiUser known)
        {
            return known;
        }

        var token = ApiTokens.FromRequest(context.Request);
        var user = token is null
            ? null
            : await context.RequestServices.GetRequiredService<ApiTokens>().AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
        var resolved = user ?? Anonymous;
        context.Items[ItemKey] = resolved;
        return resolved;
    }
}
