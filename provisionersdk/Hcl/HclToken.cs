namespace Provisioning.Sdk.Hcl;

/// <summary>
/// A token: its kind and where it sits in the (newline-normalised) source, [Start, End).
/// For template openers and closers, <see cref="Strip"/> records a <c>~</c> strip marker.
/// </summary>
internal readonly record struct HclToken(HclTokenKind Kind, int Start, int End, int Line, int Column, bool Strip = false)
{
    public string Text(string source) => source[Start..End];
}
