namespace Provisioning.Daemon.Tests.Support;

/// <summary>The daemon tests that run real Terraform: one shared Terraform cache, run one test at a time (2 CPUs).</summary>
[CollectionDefinition(Name)]
public sealed class DaemonCollection : ICollectionFixture<TerraformCacheFixture>
{
    public const string Name = "daemon with terraform";
}
