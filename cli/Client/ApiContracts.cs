namespace Provisioning.Cli.Client;

// The JSON shapes of the coordinator's /api/v1 (snake_case on the wire), as the CLI reads and writes them.
// Kept together because they only make sense as a set; `--output json` prints them as received.

internal sealed record NameValue(string Name, string Value);

internal sealed record BuildInfo(string Version, string GrpcAddress, string HttpAddress);

internal sealed record User(Guid Id, string Username, string Email, string Name, string Role, string Status, DateTime CreatedAt);

internal sealed record UploadedFile(string Hash);

internal sealed record Job(
    Guid Id,
    string Type,
    string Status,
    string Provisioner,
    IReadOnlyDictionary<string, string> Tags,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? CanceledAt,
    DateTime? CompletedAt,
    string? Error,
    string? ErrorCode,
    Guid? WorkerId,
    bool LogsOverflowed,
    int? QueuePosition,
    int? QueueSize,
    string? WaitingReason)
{
    public bool IsTerminal => Status is "succeeded" or "failed" or "canceled";
}

internal sealed record JobLog(long Id, DateTime CreatedAt, string Source, string Level, string Stage, string Output);

internal sealed record Template(
    Guid Id, string Name, string DisplayName, string Description, string Provisioner, Guid? ActiveVersionId, string? ActiveVersionName, DateTime CreatedAt, DateTime UpdatedAt);

internal sealed record TemplateVariable(string Name, string Description, string Type, string? Value, string DefaultValue, bool Required, bool Sensitive);

internal sealed record TemplateParameter(
    string Name, string DisplayName, string Description, string Type, bool Mutable, string DefaultValue, bool Required, bool Ephemeral, int DisplayOrder);

internal sealed record TemplateVersion(
    Guid Id,
    Guid TemplateId,
    string TemplateName,
    string Name,
    string Message,
    string Readme,
    bool Active,
    bool ActivateOnSuccess,
    DateTime CreatedAt,
    Job Job,
    IReadOnlyList<TemplateVariable> Variables,
    IReadOnlyList<TemplateParameter> Parameters);

internal sealed record CreateTemplateVersionRequest(
    string FileHash, string? Name, string? Message, IReadOnlyList<NameValue> UserVariableValues, IReadOnlyDictionary<string, string> ProvisionerTags, bool Activate);

internal sealed record Workspace(
    Guid Id, string Name, Guid OwnerId, string OwnerName, Guid TemplateId, string TemplateName, DateTime CreatedAt, Build LatestBuild, IReadOnlyList<Resource> Resources);

internal sealed record CreateWorkspaceRequest(string Name, string Template, IReadOnlyList<NameValue> RichParameterValues);

internal sealed record CreateBuildRequest(string Transition, IReadOnlyList<NameValue>? RichParameterValues);

internal sealed record Build(
    Guid Id,
    Guid WorkspaceId,
    string WorkspaceName,
    int BuildNumber,
    string Transition,
    Guid TemplateVersionId,
    string TemplateVersionName,
    Guid? InitiatorId,
    string Reason,
    bool HasState,
    DateTime CreatedAt,
    Job Job,
    IReadOnlyList<NameValue> RichParameterValues);

internal sealed record Resource(
    Guid Id, string Transition, string Type, string Name, bool Hide, string Icon, string InstanceType, int DailyCost, string ModulePath,
    IReadOnlyList<ResourceMetadata> Metadata, IReadOnlyList<Agent> Agents);

internal sealed record ResourceMetadata(string Key, string? Value, bool Sensitive);

internal sealed record Agent(Guid Id, string Name, string OperatingSystem, string Architecture, string Directory, IReadOnlyList<App> Apps);

internal sealed record App(string Slug, string DisplayName, string Icon, string? Command, string? Url, bool External, bool Subdomain, string SharingLevel, bool Hidden);

internal sealed record ProvisionerDaemon(
    Guid Id, string Name, IReadOnlyDictionary<string, string> Tags, IReadOnlyList<string> Provisioners, string Version, int Slots,
    string Status, IReadOnlyList<Guid> CurrentJobs, Guid? CurrentJob, string? KeyName, DateTime CreatedAt, DateTime LastSeenAt);

internal sealed record CreateProvisionerKeyRequest(string Name, IReadOnlyDictionary<string, string> Tags);

internal sealed record ProvisionerKey(Guid Id, string Name, IReadOnlyDictionary<string, string> Tags, DateTime CreatedAt);

internal sealed record CreatedProvisionerKey(ProvisionerKey ProvisionerKey, string Key);

internal sealed record JobEnd(string Status);
