namespace Provisioning.Bench;

/// <summary>A named figure with its unit.</summary>
internal sealed record Metric(string Name, double Value, string Unit);
