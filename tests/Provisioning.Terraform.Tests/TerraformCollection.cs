namespace Provisioning.Terraform.Tests;

/// <summary>Tests that run real Terraform share one cache and run one at a time, as the machine has two cores.</summary>
[CollectionDefinition(Name)]
public sealed class TerraformCollection : ICollectionFixture<TerraformFixture>
{
    public const string Name = "Real Terraform";
}
