using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.State;

/// <summary>
/// What a Terraform state (or saved plan) means to the provisioning system: the workspace resources
/// with their agents, the template's parameters, external auth providers and presets.
/// </summary>
public sealed record ConvertedState(
    IReadOnlyList<Resource> Resources,
    IReadOnlyList<RichParameter> Parameters,
    IReadOnlyList<ExternalAuthProviderResource> ExternalAuthProviders,
    IReadOnlyList<Preset> Presets,
    bool HasExternalAgents);
