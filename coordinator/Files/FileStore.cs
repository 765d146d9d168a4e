using System.Buffers;
using System.Data;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

using Dapper;

using Npgsql;

namespace Provisioning.Coordinator.Files;

/// <summary>
/// The one owner of <c>files</c> (content-addressed blobs: template archives, states) and their chunks.
/// Bytes are streamed in and out in chunks of <see cref="ChunkSize"/>, so an upload or a download of any
/// allowed size holds one chunk in memory, never the whole body; a new file becomes visible (its files row)
/// only when all its bytes are stored, checked against their SHA-256, and validated. Files no job, build or
/// version refers to are collected after a retention (<see cref="CollectUnreferencedAsync"/>).
/// Why chunks in a table rather than large objects or the file system: docs/decisions/0002-state-safety.md.
/// </summary>
public sealed class FileStore(NpgsqlDataSource dataSource)
{
    /// <summary>Bytes per stored chunk (and per piece read back).</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>
    /// Streams <paramref name="content"/> into the store. Checks the size limit as bytes arrive, then the expected
    /// size and SHA-256 when given, then <paramref name="validate"/> (reading the stored bytes back as a stream), and
    /// only then commits. An existing file with the same content is not stored twice (<see cref="StoredFile.Created"/> false).
    /// </summary>
    /// <exception cref="FileStoreException">Too large, size or hash mismatch; nothing was stored.</exception>
    public async Task<StoredFile> StoreAsync(
        IAsyncEnumerable<ReadOnlyMemory<byte>> content, FileUpload upload, Func<Stream, CancellationToken, Task>? validate = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(upload);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var expected = upload.ExpectedSha256?.ToLowerInvariant();
        if (expected is not null && validate is null && await ExistsAsync(connection, null, expected, cancellationToken).ConfigureAwait(false))
        {
            // Stored already: read the upload to its end (the caller's framing checks still apply) without keeping it.
            var size = await DrainAsync(content, upload, expected, cancellationToken).ConfigureAwait(false);
            return new StoredFile(expected, size, Created: false);
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var contentId = Guid.NewGuid();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        long total = 0;
        var filled = 0;
        var sequence = 0;
        try
        {
            await foreach (var piece in content.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                total += piece.Length;
                if (total > upload.MaxBytes)
                {
                    throw FileStoreException.TooLarge(total, upload.MaxBytes);
                }

                hash.AppendData(piece.Span);
                var remaining = piece;
                while (remaining.Length > 0)
                {
                    var take = Math.Min(ChunkSize - filled, remaining.Length);
                    remaining[..take].CopyTo(buffer.AsMemory(filled));
                    filled += take;
                    remaining = remaining[take..];
                    if (filled == ChunkSize)
                    {
                        await WriteChunkAsync(connection, transaction, contentId, sequence++, buffer, filled, cancellationToken).ConfigureAwait(false);
                        filled = 0;
                    }
                }
            }

            if (filled > 0)
            {
                await WriteChunkAsync(connection, transaction, contentId, sequence, buffer, filled, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        CheckFraming(upload, expected, total, actual);
        if (validate is not null)
        {
            await using var stored = new ChunkReadStream(ReadChunksAsync(connection, transaction, contentId, cancellationToken));
            await validate(stored, cancellationToken).ConfigureAwait(false);
        }

        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO files (hash, mimetype, size, content_id, created_by) VALUES (@Hash, @Mimetype, @Size, @ContentId, @CreatedBy)
            ON CONFLICT (hash) DO NOTHING
            """,
            new { Hash = actual, upload.Mimetype, Size = total, ContentId = contentId, upload.CreatedBy },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (inserted == 0)
        {
            // The same bytes are stored already (another upload won, or validation had to run): keep that copy.
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return new StoredFile(actual, total, Created: false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new StoredFile(actual, total, Created: true);
    }

    /// <summary>Stores bytes already in memory (a state of at most the upload limit) in the caller's transaction; returns their SHA-256.</summary>
    public static async Task<string> StoreBytesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] data, string mimetype, Guid? createdBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(data);
        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        if (await ExistsAsync(connection, transaction, hash, cancellationToken).ConfigureAwait(false))
        {
            return hash;
        }

        var contentId = Guid.NewGuid();
        for (int offset = 0, sequence = 0; offset < data.Length; offset += ChunkSize, sequence++)
        {
            await WriteChunkAsync(connection, transaction, contentId, sequence, data.AsMemory(offset, Math.Min(ChunkSize, data.Length - offset)), cancellationToken).ConfigureAwait(false);
        }

        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO files (hash, mimetype, size, content_id, created_by) VALUES (@Hash, @Mimetype, @Size, @ContentId, @CreatedBy)
            ON CONFLICT (hash) DO NOTHING
            """,
            new { Hash = hash, Mimetype = mimetype, Size = (long)data.Length, ContentId = contentId, CreatedBy = createdBy },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (inserted == 0)
        {
            // Another transaction stored the same bytes meanwhile; ours are not needed.
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM file_chunks WHERE content_id = @ContentId", new { ContentId = contentId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        return hash;
    }

    /// <summary>The stored file's metadata, or null.</summary>
    public async Task<StoredFileInfo?> GetInfoAsync(string hash, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await GetInfoAsync(connection, null, hash, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored file's metadata in the caller's transaction, or null.</summary>
    public static Task<StoredFileInfo?> GetInfoAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string hash, CancellationToken cancellationToken = default) =>
        connection.QuerySingleOrDefaultAsync<StoredFileInfo?>(new CommandDefinition(
            """SELECT hash AS "Hash", mimetype AS "Mimetype", size AS "Size", created_by AS "CreatedBy", created_at AS "CreatedAt" FROM files WHERE hash = @Hash""",
            new { Hash = hash.ToLowerInvariant() },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>Streams a stored file's bytes, one chunk at a time, on a connection of its own.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(string hash, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var chunk in ReadAsync(connection, null, hash, cancellationToken).ConfigureAwait(false))
        {
            yield return chunk;
        }
    }

    /// <summary>
    /// A stored file as a forward-only stream read one chunk at a time on the caller's connection (free between chunks),
    /// for what reads a file through once without holding it whole (a template archive scanned at push).
    /// </summary>
    public static Stream OpenRead(NpgsqlConnection connection, NpgsqlTransaction? transaction, string hash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return new ChunkReadStream(ReadAsync(connection, transaction, hash, cancellationToken));
    }

    /// <summary>A stored file's whole content, for what must be in memory anyway (a build's state, bounded by the upload limit).</summary>
    public static async Task<byte[]> ReadAllAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string hash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var info = await GetInfoAsync(connection, transaction, hash, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"File {hash} is not stored: upload it before referring to it.");
        var data = new byte[info.Size];
        var offset = 0;
        await foreach (var chunk in ReadAsync(connection, transaction, hash, cancellationToken).ConfigureAwait(false))
        {
            chunk.CopyTo(data.AsMemory(offset));
            offset += chunk.Length;
        }

        return data;
    }

    /// <summary>
    /// Deletes files older than <paramref name="retention"/> that nothing refers to: no job's template archive, no
    /// unfinished job's input (the previous state a pending build will download) or upload. Builds keep their
    /// states in workspace_builds, so an ended job's state file is not needed once the build recorded it.
    /// </summary>
    public async Task<int> CollectUnreferencedAsync(TimeSpan retention, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM files f
            WHERE f.created_at < now() - @Retention
              AND NOT EXISTS (SELECT 1 FROM provisioner_jobs j WHERE j.file_hash = f.hash)
              AND NOT EXISTS (SELECT 1 FROM provisioner_jobs j WHERE j.completed_at IS NULL AND strpos(j.input::text, f.hash) > 0)
              AND NOT EXISTS (SELECT 1 FROM provisioner_job_files u JOIN provisioner_jobs j ON j.id = u.job_id
                              WHERE u.hash = f.hash AND (j.completed_at IS NULL OR j.reported_at IS NULL))
            """,
            new { Retention = retention },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string hash, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(byte[]? Data, Guid? ContentId)>(new CommandDefinition(
            "SELECT data, content_id FROM files WHERE hash = @Hash", new { Hash = hash.ToLowerInvariant() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.Data is { } inline)
        {
            // Stored before files were chunked (migration 0009).
            yield return inline;
            yield break;
        }

        if (row.ContentId is not { } contentId)
        {
            throw new ArgumentException($"File {hash} is not stored.");
        }

        await foreach (var chunk in ReadChunksAsync(connection, transaction, contentId, cancellationToken).ConfigureAwait(false))
        {
            yield return chunk;
        }
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunksAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid contentId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One chunk per round trip, so the connection is free between chunks (a caller may interleave commands) and
        // only one chunk is in memory.
        for (var sequence = 0; ; sequence++)
        {
            await using var command = new NpgsqlCommand("SELECT data FROM file_chunks WHERE content_id = $1 AND seq = $2", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = contentId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = sequence });
            var data = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
            if (data is null)
            {
                yield break;
            }

            yield return data;
        }
    }

    private static async Task WriteChunkAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid contentId, int sequence, byte[] buffer, int length, CancellationToken cancellationToken) =>
        await WriteChunkAsync(connection, transaction, contentId, sequence, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);

    private static async Task WriteChunkAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid contentId, int sequence, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("INSERT INTO file_chunks (content_id, seq, data) VALUES ($1, $2, $3)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = contentId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = sequence });
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = data });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string hash, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM files WHERE hash = @Hash)", new { Hash = hash }, transaction, cancellationToken: cancellationToken));

    private static async Task<long> DrainAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> content, FileUpload upload, string expected, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        await foreach (var piece in content.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            total += piece.Length;
            if (total > upload.MaxBytes)
            {
                throw FileStoreException.TooLarge(total, upload.MaxBytes);
            }

            hash.AppendData(piece.Span);
        }

        CheckFraming(upload, expected, total, Convert.ToHexStringLower(hash.GetHashAndReset()));
        return total;
    }

    private static void CheckFraming(FileUpload upload, string? expected, long total, string actual)
    {
        if (upload.ExpectedSize is { } size && size != total)
        {
            throw FileStoreException.SizeMismatch(total, size);
        }

        if (expected is not null && expected != actual)
        {
            throw FileStoreException.HashMismatch(actual, expected);
        }
    }
}
