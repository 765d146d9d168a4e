namespace Provisioning.TestProvider.Coder;

/// <summary>A diagnostic as SDKv2 reports it: a summary, an optional detail and the path of the attribute it is about (names and list indexes).</summary>
internal sealed record ProviderDiagnostic(string Summary, string Detail = "", IReadOnlyList<object>? Path = null)
{
    public bool IsWarning { get; init; }
}
