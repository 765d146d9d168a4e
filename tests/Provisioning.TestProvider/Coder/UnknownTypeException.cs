namespace Provisioning.TestProvider.Coder;

/// <summary>A resource or data source type the test provider does not serve (Terraform only asks for types in the schema).</summary>
internal sealed class UnknownTypeException(string message) : Exception(message);
