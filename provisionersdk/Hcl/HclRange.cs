namespace Provisioning.Sdk.Hcl;

/// <summary>Where a construct sits: [Start, End) in the source, and its first line and column.</summary>
internal readonly record struct HclRange(int Start, int End, int Line, int Column);
