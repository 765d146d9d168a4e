using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Api.Provisioners;

/// <summary>/provisioners (the daemons and what they run) and /provisioner-keys: HTTP in and out only; who may is <see cref="ProvisionerStore"/>'s to decide.</summary>
internal static class ProvisionerEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/provisioners", ListDaemonsAsync).WithTags("Provisioners").WithName("ListProvisioners").Produces<List<ProvisionerDaemonResponse>>();
        api.MapGet("/provisioners/queue-history", GetQueueHistoryAsync).WithTags("Provisioners").WithName("GetQueueHistory").Produces<List<QueueHistoryPoint>>();
        var keys = api.MapGroup("/provisioner-keys").WithTags("Provisioners").ProducesProblem(StatusCodes.Status403Forbidden);
        keys.MapPost("/", CreateKeyAsync).WithName("CreateProvisionerKey").Produces<CreatedProvisionerKeyResponse>(StatusCodes.Status201Created);
        keys.MapGet("/", ListKeysAsync).WithName("ListProvisionerKeys").Produces<List<ProvisionerKeyResponse>>();
        keys.MapDelete("/{name}", DeleteKeyAsync).WithName("DeleteProvisionerKey").Produces(StatusCodes.Status204NoContent);
    }

    private static async Task<IResult> ListDaemonsAsync(ApiUser caller, ProvisionerStore provisioners, CancellationToken cancellationToken) =>
        TypedResults.Ok(await provisioners.ListDaemonsAsync(caller, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> GetQueueHistoryAsync(ApiUser caller, ProvisionerStore provisioners, CancellationToken cancellationToken) =>
        TypedResults.Ok(await provisioners.GetQueueHistoryAsync(caller, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> CreateKeyAsync(CreateProvisionerKeyRequest request, ApiUser caller, ProvisionerStore provisioners, CancellationToken cancellationToken)
    {
        var created = await provisioners.CreateKeyAsync(caller, request, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/api/v1/provisioner-keys/{created.ProvisionerKey.Name}", created);
    }

    private static async Task<IResult> ListKeysAsync(ApiUser caller, ProvisionerStore provisioners, CancellationToken cancellationToken) =>
        TypedResults.Ok(await provisioners.ListKeysAsync(caller, cancellationToken).ConfigureAwait(false));

    private static async Task<IResult> DeleteKeyAsync(string name, ApiUser caller, ProvisionerStore provisioners, CancellationToken cancellationToken)
    {
        await provisioners.DeleteKeyAsync(caller, name, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
