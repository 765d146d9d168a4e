namespace Provisioning.Coordinator.Jobs;

/// <summary>What a job asks a daemon to do (the protocol's JobType).</summary>
public enum ProvisionerJobType
{
    /// <summary>Parse a pushed template and plan start and stop, to discover its parameters and resources.</summary>
    TemplateVersionImport,

    /// <summary>Plan and apply a workspace transition (start, stop, delete).</summary>
    WorkspaceBuild,

    /// <summary>Plan only, to preview what a build would create.</summary>
    TemplateVersionDryRun,
}
