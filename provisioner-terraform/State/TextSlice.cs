namespace Provisioning.Terraform.State;

/// <summary>
/// Characters of a string, kept as the string and a range instead of a copy: the DOT parser keeps node ids and labels
/// this way, so a 10,000-node graph does not copy every id and label into strings of their own when a conversion only
/// ever reads a few of them (bench/Provisioning.Bench.Micro).
/// </summary>
internal readonly struct TextSlice(string text, int start, int length)
{
    public TextSlice(string text)
        : this(text, 0, text.Length)
    {
    }

    public int Length => length;

    public ReadOnlySpan<char> AsSpan() => text.AsSpan(start, length);

    /// <summary>The characters as a string: the string itself when the slice is all of it, else a copy.</summary>
    public override string ToString() => start == 0 && length == text.Length ? text : text.Substring(start, length);

    /// <summary>Ordinal equality of the characters, whatever strings they are in; also looks slices up by a span.</summary>
    public sealed class OrdinalComparer : IEqualityComparer<TextSlice>, IAlternateEqualityComparer<ReadOnlySpan<char>, TextSlice>
    {
        public static readonly OrdinalComparer Instance = new();

        private OrdinalComparer()
        {
        }

        public bool Equals(TextSlice x, TextSlice y) => x.AsSpan().SequenceEqual(y.AsSpan());

        public int GetHashCode(TextSlice obj) => string.GetHashCode(obj.AsSpan(), StringComparison.Ordinal);

        public bool Equals(ReadOnlySpan<char> alternate, TextSlice other) => alternate.SequenceEqual(other.AsSpan());

        public int GetHashCode(ReadOnlySpan<char> alternate) => string.GetHashCode(alternate, StringComparison.Ordinal);

        public TextSlice Create(ReadOnlySpan<char> alternate) => new(alternate.ToString());
    }
}
