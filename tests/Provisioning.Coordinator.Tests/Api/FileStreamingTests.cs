using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

using Dapper;

using Npgsql;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>Runs alone: it measures this process's managed heap while the in-process server receives an upload.</summary>
[CollectionDefinition(nameof(FileStreamingTests), DisableParallelization = true)]
public sealed class FileStreamingCollection;

[Collection(nameof(FileStreamingTests))]
public sealed class FileStreamingTests(PostgresServerFixture server)
{
    private const long FileBytes = 40L * 1024 * 1024;
    private const int Files = 3;

    [Fact]
    public async Task UploadFile_A120MiBArchive_IsStreamedIntoChunksWithoutHoldingTheBodyInMemory()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await server.CreateDatabaseAsync("streaming", cancellationToken);
        await using var api = await ApiServer.StartOnAsync(connectionString, cancellationToken, new Dictionary<string, string?> { ["MaxUploadBytes"] = (200L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var admin = await api.AdminAsync();
        admin.Timeout = TimeSpan.FromMinutes(5);

        // The peak of live memory while the body arrives: a server that buffers the body keeps everything received so
        // far reachable, up to all 120 MiB (and a copy). Each sample is a full collection, so garbage (which a large
        // gen0 budget lets pile up on a big machine) is never mistaken for a held body.
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
            }
        }, CancellationToken.None);
        HttpStatusCode status;
        string body;
        using (var response = await admin.PostAsync("/api/v1/files", new StreamedTarContent(), cancellationToken))
        {
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }

        await sampling.CancelAsync();
        await sampler;

        Assert.True(status == HttpStatusCode.Created, $"Upload answered {status}: {body}");
        var hash = JsonDocument.Parse(body).RootElement.GetProperty("hash").GetString();
        await using var connection = new NpgsqlConnection(connectionString);
        var stored = await connection.QuerySingleAsync<(long Size, bool Inline, long Chunks)>(
            "SELECT f.size, f.data IS NOT NULL, (SELECT count(*) FROM file_chunks c WHERE c.content_id = f.content_id) FROM files f WHERE f.hash = @hash", new { hash });
        Assert.False(stored.Inline);
        Assert.Equal((stored.Size + (1024 * 1024) - 1) / (1024 * 1024), stored.Chunks);
        Assert.True(stored.Size > Files * FileBytes);
        var grewBy = peak - baseline;
        Assert.True(grewBy < 48L * 1024 * 1024, $"Live managed memory grew by {grewBy / (1024 * 1024)} MiB during a {stored.Size / (1024 * 1024)} MiB upload: the body was held in memory.");
    }

    /// <summary>A tar of three 40 MiB files of zeros, written straight into the request stream as it is sent.</summary>
    private sealed class StreamedTarContent : HttpContent
    {
        public StreamedTarContent() => Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await using var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
            for (var index = 0; index < Files; index++)
            {
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, $"data/{index}.bin") { DataStream = new ZeroStream(FileBytes) });
            }

            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "main.tf") { DataStream = new MemoryStream("resource \"terraform_data\" \"x\" {}\n"u8.ToArray()) });
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A seekable stream of zeros of a given length that holds no buffer of that size.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = (int)Math.Min(count, length - Position);
            Array.Clear(buffer, offset, read);
            Position += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
