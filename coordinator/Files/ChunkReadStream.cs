namespace Provisioning.Coordinator.Files;

/// <summary>A read-only, forward-only stream over chunks, so that a validator written for streams reads stored bytes without loading them whole.</summary>
internal sealed class ChunkReadStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks) : Stream
{
    private readonly IAsyncEnumerator<ReadOnlyMemory<byte>> _chunks = chunks.GetAsyncEnumerator();
    private ReadOnlyMemory<byte> _current;
    private bool _ended;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty && !_ended)
        {
            if (await _chunks.MoveNextAsync().ConfigureAwait(false))
            {
                _current = _chunks.Current;
            }
            else
            {
                _ended = true;
            }
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Validators read asynchronously; a synchronous read (e.g. from a library without async paths) waits for the next chunk.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await _chunks.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
