

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;


using Provisioning.Coordinator.Api.Auth;
using Provisioning.Coordinator.Files;
using Provisioning.Sdk.Archives;

namespace Provisioning.Coordinator.Api.Files;

/// <summary>/files: template archives stored content-addressed by SHA-256, checked before they are stored.</summary>
internal static class FileEndpoints
{
    public const string TarContentType = "application/x-tar";

    public static void Map(RouteGroupBuilder api)
    {
        var files = api.MapGroup("/files").WithTags("Files");
        files.MapPost("/", UploadAsync).WithName("UploadFile").Produces<FileResponse>(StatusCodes.Status201Created);
        files.MapGet("/{hash}", DownloadAsync).WithName("DownloadFile").Produces(StatusCodes.Status200OK, contentType: TarContentType);
    }

    private static async Task<IResult> UploadAsync(HttpContext http, ApiUser caller, FileStore store, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
    {
        caller.Require(ApiRoles.TemplateAdmin);
        var request = http.Request;
        var maxBytes = options.Value.MaxUploadBytes;
        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), TarContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Upload the template as an uncompressed tar with `Content-Type: {TarContentType}` (got '{request.ContentType}').", "content_type");
        }

        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(request.ContentLength.Value, maxBytes);
        }

        // Kestrel's own cap (30 MB by default) would cut larger uploads that the configured limit allows.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes + 1;
        }

        // Streamed into the store chunk by chunk and validated from the stored chunks before it becomes visible:
        // the body is never held in memory whole, whatever --max-upload-size allows.
        StoredFile stored;
        try
        {
            stored = await store.StoreAsync(
                ReadBodyAsync(request.Body, cancellationToken),
                new FileUpload(TarContentType, maxBytes, caller.Id, ExpectedSize: request.ContentLength),
                static (archive, token) => TemplateArchiveValidator.ValidateAsync(archive, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (FileStoreException exception) when (exception.Kind == FileStoreFailure.TooLarge)
        {
            throw TooLarge(null, maxBytes);
        }
        catch (FileStoreException exception)
        {
            throw ApiProblemException.Invalid("file", exception.Message);
        }
        catch (TemplateArchiveException exception)
        {
            var field = exception.EntryName is { } entry ? $"file.{entry}" : "file";
            throw ApiProblemException.Invalid(field, exception.Message);
        }

        var response = new FileResponse(stored.Hash);
        return stored.Created ? TypedResults.Created($"/api/v1/files/{stored.Hash}", response) : TypedResults.Ok(response);
    }

    private static async Task<IResult> DownloadAsync(string hash, ApiUser caller, FileStore store, CancellationToken cancellationToken)
    {
        var file = await store.GetInfoAsync(hash, cancellationToken).ConfigureAwait(false);

        // Files hold template code and states: members see only what they uploaded; 404 either way, so hashes do not leak.
        if (file is null || (!caller.IsTemplateAdmin && file.CreatedBy != caller.Id))
        {
            throw ApiProblemException.NotFound($"File {hash} does not exist.");
        }

        return Results.Stream(
            async body =>
            {
                await foreach (var chunk in store.ReadAsync(file.Hash, CancellationToken.None).ConfigureAwait(false))
                {
                    await body.WriteAsync(chunk, CancellationToken.None).ConfigureAwait(false);
                }
            },
            file.Mimetype,
            fileDownloadName: file.Hash + ".tar");
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadBodyAsync(Stream body, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            // The store copies each piece before asking for the next, so one buffer serves the whole body.
            yield return buffer.AsMemory(0, read);
        }
    }

    private static ApiProblemException TooLarge(long? size, long maxBytes) => new(
        StatusCodes.Status413PayloadTooLarge,
        "Upload too large",
        $"The upload is {(size is { } bytes ? $"{bytes} bytes" : "larger than the limit")}; this coordinator accepts at most {maxBytes} bytes ({maxBytes / (1024.0 * 1024):0.#} MiB). "
            + "Shrink the template (list large files in .provisioningignore) or start the server with a larger --max-upload-size.",
        "file");
}
