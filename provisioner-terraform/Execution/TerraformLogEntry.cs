using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>One line for the job log, parsed from Terraform's output.</summary>
internal sealed record TerraformLogEntry(LogLevel Level, string Output);
