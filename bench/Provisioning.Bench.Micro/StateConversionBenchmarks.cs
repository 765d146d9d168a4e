using System.Text.Json;

using BenchmarkDotNet.Attributes;

using Provisioning.Terraform.State;

namespace Provisioning.Bench.Micro;

/// <summary>
/// State conversion (<see cref="StateConverter.ConvertState"/>: the <c>show -json</c> document and the <c>graph</c> DOT
/// text into resources) against System.Text.Json parsing the same bytes, for 1k, 5k and 10k resources. The inputs have
/// the shape Terraform 1.11 prints (see <see cref="SyntheticState"/>): mostly <c>terraform_data</c> resources, and one
/// <c>coder_agent</c> per ten, each attached through a graph edge to the resource that depends on it, so the
/// graph search that places agents is part of what is measured.
/// </summary>
[MemoryDiagnoser]
public class StateConversionBenchmarks
{
    private readonly StateConverter _converter = new();
    private byte[] _json = [];
    private string _dot = string.Empty;

    [Params(1_000, 5_000, 10_000)]
    public int Resources { get; set; }

    [GlobalSetup]
    public void Setup() => (_json, _dot) = SyntheticState.Create(Resources);

    /// <summary>The floor: parsing the same bytes with System.Text.Json and nothing else.</summary>
    [Benchmark(Baseline = true)]
    public int ParseOnly()
    {
        using var document = JsonDocument.Parse(_json);
        return document.RootElement.GetProperty("values").GetProperty("root_module").GetProperty("resources").GetArrayLength();
    }

    /// <summary>The DOT half of the conversion on its own: parsing <c>terraform graph</c>'s text.</summary>
    [Benchmark]
    public int ParseGraphOnly() => TerraformGraph.Parse(_dot).Nodes.Count;

    /// <summary>What the provisioner does after <c>apply</c>: parse the state, then convert it with the graph.</summary>
    [Benchmark]
    public int ParseAndConvert()
    {
        using var document = JsonDocument.Parse(_json);
        return _converter.ConvertState(document.RootElement, _dot).Resources.Count;
    }
}
