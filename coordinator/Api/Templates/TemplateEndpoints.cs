using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Api.Templates;

/// <summary>/templates: HTTP in and out only; who may read, push and activate is <see cref="TemplateStore"/>'s to decide.</summary>
internal static class TemplateEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var templates = api.MapGroup("/templates").WithTags("Templates");
        templates.MapGet("/", ListAsync).WithName("ListTemplates").Produces<List<TemplateResponse>>();
        templates.MapGet("/{name}", GetAsync).WithName("GetTemplate").Produces<TemplateResponse>();
        templates.MapPost("/{name}/versions", CreateVersionAsync).WithName("CreateTemplateVersion").Produces<TemplateVersionResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        templates.MapGet("/{name}/versions", ListVersionsAsync).WithName("ListTemplateVersions").Produces<List<TemplateVersionResponse>>();
        templates.MapGet("/{name}/versions/{version}", GetVersionAsync).WithName("GetTemplateVersion").Produces<TemplateVersionResponse>();
        templates.MapPatch("/{name}/versions/{version}/activate", ActivateAsync).WithName("ActivateTemplateVersion").Produces<TemplateVersionResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden);
        templates.MapGet("/{name}/versions/{version}/presets", ListPresetsAsync).WithName("ListTemplateVersionPresets").Produces<List<TemplatePresetResponse>>();
    }

    private static async Task<IResult> ListPresetsAsync(string name, string version, ApiUser caller, TemplateStore templates, CancellationToken cancellationToken) =>
        TypedResults.Ok(await templates.ListPresetsAsync(caller, name, version, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> ListAsync(ApiUser caller, TemplateStore templates, CancellationToken cancellationToken) =>
        TypedResults.Ok(await templates.ListAsync(caller, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetAsync(string name, ApiUser caller, TemplateStore templates, CancellationToken cancellationToken) =>
        TypedResults.Ok(await templates.GetAsync(caller, name, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> CreateVersionAsync(string name, CreateTemplateVersionRequest request, ApiUser caller, TemplateStore templates, CancellationToken cancellationToken)
    {
        var version = await templates.CreateVersionAsync(caller, name, request, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/templates/{name}/versions/{version.Name}", version);
    }

    private static async Task<IResult> ListVersionsAsync(string name, ApiUser caller, TemplateStore templates, CancellationToken cancellationToken) =>
        TypedResults.Ok(await templates.ListVersionsAsync(caller, name, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetVersionAsync(string name, string version, ApiUser caller, TemplateStore templates, CancellationToken cancellationToken) =>
        TypedResults.Ok(await templates.GetVersionAsync(caller, name, version, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> ActivateAsync(string name, string version, ApiUser caller, TemplateStore templates, CancellationToken cancellationToken) =>
        TypedResults.Ok(await templates.ActivateAsync(caller, name, version, cancellationToken).ConfigureAwait(false));
}
