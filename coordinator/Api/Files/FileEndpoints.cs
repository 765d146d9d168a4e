using System.Security.Cryptography;

using Dapper;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

using Npgsql;

using Provisioning.Coordinator.Api.Auth;
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

    private static async Task<IResult> UploadAsync(HttpContext http, ApiUser caller, NpgsqlDataSource dataSource, IOptions<CoordinatorOptions> options, CancellationToken cancellationToken)
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

        var data = await ReadBodyAsync(request.Body, maxBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            using var archive = new MemoryStream(data, writable: false);
            await TemplateArchiveValidator.ValidateAsync(archive, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (TemplateArchiveException exception)
        {
            var field = exception.EntryName is { } entry ? $"file.{entry}" : "file";
            throw ApiProblemException.Invalid(field, exception.Message);
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO files (hash, mimetype, size, data, created_by) VALUES (@Hash, @Mimetype, @Size, @Data, @CreatedBy) ON CONFLICT (hash) DO NOTHING",
            new { Hash = hash, Mimetype = TarContentType, Size = (long)data.Length, Data = data, CreatedBy = caller.Id },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        var response = new FileResponse(hash);
        return inserted > 0 ? TypedResults.Created($"/api/v1/files/{hash}", response) : TypedResults.Ok(response);
    }

    private static async Task<IResult> DownloadAsync(string hash, ApiUser caller, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var file = await connection.QuerySingleOrDefaultAsync<(string Mimetype, byte[] Data, Guid? CreatedBy)>(new CommandDefinition(
            "SELECT mimetype, data, created_by FROM files WHERE hash = @Hash",
            new { Hash = hash.ToLowerInvariant() },
            cancellationToken: cancellationToken)).ConfigureAwait(false);

        // Files hold template code and states: members see only what they uploaded; 404 either way, so hashes do not leak.
        if (file.Data is null || (!caller.IsTemplateAdmin && file.CreatedBy != caller.Id))
        {
            throw ApiProblemException.NotFound($"File {hash} does not exist.");
        }

        return TypedResults.File(file.Data, file.Mimetype, fileDownloadName: hash + ".tar");
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(null, maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static ApiProblemException TooLarge(long? size, long maxBytes) => new(
        StatusCodes.Status413PayloadTooLarge,
        "Upload too large",
        $"The upload is {(size is { } bytes ? $"{bytes} bytes" : "larger than the limit")}; this coordinator accepts at most {maxBytes} bytes ({maxBytes / (1024.0 * 1024):0.#} MiB). "
            + "Shrink the template (list large files in .provisioningignore) or start the server with a larger --max-upload-size.",
        "file");
}
