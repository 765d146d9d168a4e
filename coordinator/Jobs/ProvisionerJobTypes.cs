namespace Provisioning.Coordinator.Jobs;

/// <summary>The text form of <see cref="ProvisionerJobType"/> stored in provisioner_jobs.type.</summary>
public static class ProvisionerJobTypes
{
    public static ProvisionerJobType Parse(string value) => value switch
    {
        "template_version_import" => ProvisionerJobType.TemplateVersionImport,
        "workspace_build" => ProvisionerJobType.WorkspaceBuild,
        "template_version_dry_run" => ProvisionerJobType.TemplateVersionDryRun,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown job type; the database schema is newer than this build."),
    };

    public static string ToText(this ProvisionerJobType type) => type switch
    {
        ProvisionerJobType.TemplateVersionImport => "template_version_import",
        ProvisionerJobType.WorkspaceBuild => "workspace_build",
        ProvisionerJobType.TemplateVersionDryRun => "template_version_dry_run",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
