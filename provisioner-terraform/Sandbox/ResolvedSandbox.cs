namespace Provisioning.Terraform.Sandbox;

/// <summary>The sandbox every Terraform command of a provisioner goes through (at most one of the two), and the status that says so.</summary>
internal sealed record ResolvedSandbox(BubblewrapSandbox? Bubblewrap, DockerJobSandbox? Docker, TerraformSandboxStatus Status);
