namespace Provisioning.TestProvider.Coder;

/// <summary>A coder_parameter's validation block; a min or max left out of the configuration is disabled.</summary>
internal sealed record ParameterValidationRule(long Min, bool MinDisabled, long Max, bool MaxDisabled, string Monotonic, string Regex, string Error);
