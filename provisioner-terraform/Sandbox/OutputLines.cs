using System.Text;

namespace Provisioning.Terraform.Sandbox;

/// <summary>
/// Cuts one of a container's output streams into lines as its chunks arrive (a chunk may end mid-line or mid-character),
/// the way CliWrap cuts a process's pipe: <c>\n</c> or <c>\r\n</c> ends a line, a last line without one still counts.
/// </summary>
internal sealed class OutputLines(Func<string, CancellationToken, Task> emit)
{
    private readonly List<byte> _pending = [];

    public async Task AddAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        foreach (var value in chunk.Span)
        {
            _pending.Add(value);
        }

        int end;
        while ((end = _pending.IndexOf((byte)'\n')) >= 0)
        {
            var length = end > 0 && _pending[end - 1] == '\r' ? end - 1 : end;
            var line = Encoding.UTF8.GetString(_pending.GetRange(0, length).ToArray());
            _pending.RemoveRange(0, end + 1);
            await emit(line, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count > 0)
        {
            var line = Encoding.UTF8.GetString(_pending.ToArray());
            _pending.Clear();
            await emit(line, cancellationToken).ConfigureAwait(false);
        }
    }
}
